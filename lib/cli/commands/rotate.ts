import { KMSClient } from "@aws-sdk/client-kms";
import type { Command } from "commander";
import { KmsKeyManager } from "../../aws/kms-key-manager.js";
import { systemClock } from "../../clock.js";
import { BridgeError, isErrorCode } from "../../errors.js";
import { rotateNow } from "../../rotation/operations.js";
import type { RotationResult } from "../../rotation/rotate-keys.js";
import { TrustDomain } from "../../spiffe/spiffe-id.js";
import { awsClientConfig } from "../aws-options.js";
import { UsageError } from "../exit-codes.js";
import { type CliIo, writeJson } from "../output.js";
import { addKeySetOptions, type KeySetFlags, openKeySetStore } from "./keys.js";

interface RotateFlags extends KeySetFlags {
  now?: boolean;
  trustDomain?: string;
}

/** Against `svid-bridge dev`: its keys live in that process, so it rotates them itself. */
async function rotateDev(url: string, token: string): Promise<RotationResult> {
  let response: Response;
  try {
    response = await fetch(`${url.replace(/\/+$/, "")}/_dev/rotate`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (cause) {
    throw new BridgeError("exchange_unavailable", `cannot reach svid-bridge dev at ${url}`, { cause });
  }
  const body = (await response.json().catch(() => ({}))) as { error?: string; message?: string };
  if (!response.ok)
    throw new BridgeError(
      isErrorCode(body.error) ? body.error : "exchange_rejected",
      body.message ?? `HTTP ${response.status}`,
    );
  return body as RotationResult;
}

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("rotate")
    .summary("start a JWT key rotation now")
    .description(
      "Prepares the next JWT signing key at once (published now, signing one publication lead " +
        "later: never before caches have seen it) and does whatever else is due. Against " +
        "`svid-bridge dev` (SVID_BRIDGE_DEV_TOKEN set) the dev bridge does it; otherwise it runs " +
        "here against the key set table with KMS keys (SVID_BRIDGE_KEY_MANAGER=kms, the default).",
    )
    .option("--now", "rotate now (required: a rotation is otherwise the scheduled Lambda's job)")
    .option("--trust-domain <name>", "tags new KMS keys (default: SVID_BRIDGE_TRUST_DOMAIN)");
  addKeySetOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge rotate --now            # after: source .svid-bridge/env
  $ svid-bridge rotate --now --key-set-table svid-bridge-keys --trust-domain example.org`,
  );
  command.action(async (flags: RotateFlags) => {
    if (!flags.now)
      throw new UsageError("pass --now to rotate now (the rotation Lambda runs on its schedule)");
    let result: RotationResult;
    const devToken = io.env.SVID_BRIDGE_DEV_TOKEN;
    if (devToken && !flags.keySetTable) {
      const url = io.env.SVID_BRIDGE_URL;
      if (!url) throw new UsageError("SVID_BRIDGE_DEV_TOKEN is set but SVID_BRIDGE_URL is not");
      result = await rotateDev(url, devToken);
    } else {
      if ((io.env.SVID_BRIDGE_KEY_MANAGER ?? "kms") !== "kms")
        throw new UsageError(
          `SVID_BRIDGE_KEY_MANAGER=${io.env.SVID_BRIDGE_KEY_MANAGER}: rotate --now supports kms; invoke the rotation Lambda instead`,
        );
      const name = flags.trustDomain ?? io.env.SVID_BRIDGE_TRUST_DOMAIN;
      if (!name) throw new UsageError("no trust domain: pass --trust-domain or set SVID_BRIDGE_TRUST_DOMAIN");
      const { store, close } = openKeySetStore(flags, io.env);
      const { endpoint: _dynamodbOnly, ...kmsConfig } = awsClientConfig(flags, io.env);
      const kms = new KMSClient(kmsConfig);
      try {
        result = await rotateNow({
          store,
          keys: new KmsKeyManager({ client: kms, trustDomain: TrustDomain.parse(name) }),
          clock: systemClock,
        });
      } finally {
        kms.destroy();
        close();
      }
    }
    if (flags.json) return void writeJson(io.stdout, result);
    for (const a of result.actions)
      io.stdout.write(
        `${a.type}${"kid" in a ? ` ${a.kid}` : ""}${a.type === "created" ? ` (signs from ${new Date(a.activateAfter * 1000).toISOString()})` : ""}\n`,
      );
    if (result.actions.length === 0) io.stdout.write("nothing to do (a key is already prepared)\n");
    io.stdout.write(`sequence: ${result.sequence}\n`);
  });
  return command;
}
