/**
 * The dev stack (lib/dev/dev-stack.ts: dynalite, LocalSts checking real SigV4, local
 * keys and CA) in process, with what a hostile test needs: proofs signed by the dev
 * principal for any binding, and raw HTTP posts to the exchange.
 */
import { PassThrough } from "node:stream";
import { createDevLog } from "../../lib/dev/dev-log.js";
import { type DevStack, startDevStack } from "../../lib/dev/dev-stack.js";
import { buildProof } from "../../lib/proof/client.js";
import type { Proof } from "../../lib/proof/proof-format.js";

export interface DevBridge {
  stack: DevStack;
  /** A proof by the dev principal (registered for JWT and X.509 by the seed) for `binding`. */
  proofFor(binding: string, options?: { region?: string; serverId?: string }): Promise<Proof>;
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Answer>;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** `seed: false`: the dev principal has no registration, so any SVID issued is an unauthorised one. */
export async function startDevBridge(
  region = "eu-west-1",
  options: { seed?: boolean } = {},
): Promise<DevBridge> {
  const sink = new PassThrough();
  sink.resume();
  const stack = await startDevStack({
    port: 0,
    trustDomain: "example.org",
    region,
    log: createDevLog(sink),
    ...(options.seed === false && { seed: false }),
  });
  const credentials = {
    accessKeyId: stack.principal.accessKeyId,
    secretAccessKey: stack.principal.secretAccessKey,
    sessionToken: stack.principal.sessionToken!,
  };
  return {
    stack,
    proofFor: (binding, options = {}) =>
      buildProof({
        region: options.region ?? region,
        credentials,
        serverId: options.serverId ?? stack.serverId,
        binding,
      }),
    async post(path, body, headers = {}) {
      const res = await fetch(`${stack.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        parsed = { raw: text };
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
  };
}

/** Issue 14, fault 1: a header-like first line, `lines` folded header lines, then a non-base64 byte. */
export function fault1Payload(lines: number): string {
  return `-----BEGIN CERTIFICATE REQUEST-----\nk: v\n${" a: b\n".repeat(lines)}!`;
}
