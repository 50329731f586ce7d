import type { Command } from "commander";
import { decodeJwt } from "jose";
import { BridgeError } from "../../errors.js";
import { TrustBundle } from "../../spiffe/bundle.js";
import { validateJwtSvid } from "../../spiffe/jwt-svid.js";
import { SpiffeId, TrustDomain } from "../../spiffe/spiffe-id.js";
import { UsageError } from "../exit-codes.js";
import { type CliIo, formatFields, writeJson } from "../output.js";

interface VerifyFlags {
  audience: string;
  issuer?: string;
  trustDomain?: string;
  json?: boolean;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** https, or http to loopback (svid-bridge dev): keys fetched in the clear could be swapped. */
function checkUrl(url: string, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BridgeError("config_invalid", `${what} is not a URL: ${url}`);
  }
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && LOOPBACK.has(parsed.hostname)))
    throw new BridgeError("config_invalid", `${what} must be https (or http to loopback): ${url}`);
  return parsed;
}

async function getJson(url: URL, what: string): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: "error", signal: AbortSignal.timeout(10_000) });
  } catch (cause) {
    throw new BridgeError("exchange_unavailable", `cannot fetch the ${what} at ${url}`, { cause });
  }
  if (!response.ok)
    throw new BridgeError("exchange_unavailable", `the ${what} at ${url} answered ${response.status}`);
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new BridgeError("exchange_unavailable", `the ${what} at ${url} is not a JSON object`);
  return body as Record<string, unknown>;
}

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("verify")
    .summary("verify a JWT-SVID through the issuer's OIDC discovery")
    .description(
      "Verifies a JWT-SVID as a relying party does, from public documents only: the issuer's " +
        "/.well-known/openid-configuration, its jwks_uri, then every JWT-SVID rule (algorithm, kid, " +
        "signature, exp/iat, aud, iss, sub a SPIFFE ID). Prints the SPIFFE ID and the claims.",
    )
    .argument("<token>", "the JWT-SVID ('-' reads it from stdin)")
    .requiredOption("--audience <aud>", "your audience: the token's aud must contain it")
    .option("--issuer <url>", "the issuer you trust (default: SVID_BRIDGE_ISSUER)")
    .option(
      "--trust-domain <name>",
      "also require sub in this trust domain (default: SVID_BRIDGE_TRUST_DOMAIN)",
    )
    .option("--json", "print {spiffe_id, claims, kid, alg} as JSON");
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge verify "$TOKEN" --audience demo
  $ svid-bridge token --audience demo | svid-bridge verify - --audience demo --json`,
  );
  command.action(async (tokenArg: string, flags: VerifyFlags) => {
    const token = (tokenArg === "-" ? await io.readInput("-") : tokenArg).trim();
    const issuer = flags.issuer ?? io.env.SVID_BRIDGE_ISSUER;
    if (!issuer) throw new UsageError("no issuer: pass --issuer or set SVID_BRIDGE_ISSUER");
    const tdName = flags.trustDomain ?? io.env.SVID_BRIDGE_TRUST_DOMAIN;
    const expected = tdName !== undefined ? TrustDomain.parse(tdName) : undefined;
    checkUrl(issuer, "the issuer");
    const config = await getJson(
      new URL(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`),
      "discovery document",
    );
    if (config.issuer !== issuer)
      throw new BridgeError(
        "config_invalid",
        `the discovery document names issuer ${String(config.issuer)}, not ${issuer}`,
      );
    if (typeof config.jwks_uri !== "string")
      throw new BridgeError("config_invalid", "the discovery document has no jwks_uri");
    const jwks = await getJson(checkUrl(config.jwks_uri, "jwks_uri"), "JWKS");
    // The keys are the issuer's; the bundle is for the trust domain the token claims
    // (validateJwtSvid looks keys up only there), narrowed by --trust-domain when given.
    const sub = SpiffeId.tryParse(decodeSub(token));
    // An unparseable sub is refused by validateJwtSvid before any key is looked at.
    const trustDomain = expected ?? (sub.ok ? sub.id.trustDomain : TrustDomain.parse("invalid"));
    const keys = Array.isArray(jwks.keys) ? (jwks.keys as Record<string, unknown>[]) : [];
    const bundle = new TrustBundle({
      trustDomain,
      jwtAuthorities: keys
        .filter((k) => typeof k.kid === "string")
        .map((k) => ({
          kid: k.kid as string,
          jwk: k,
          ...(typeof k.alg === "string" && { alg: k.alg as never }),
        })),
    });
    const valid = await validateJwtSvid(token, {
      audience: flags.audience,
      bundles: bundle,
      issuer,
      ...(expected && { trustDomains: [expected] }),
    });
    if (flags.json)
      writeJson(io.stdout, {
        spiffe_id: valid.spiffeId.toString(),
        claims: valid.claims,
        kid: valid.kid,
        alg: valid.alg,
      });
    else
      io.stdout.write(
        formatFields([
          ["spiffe_id", valid.spiffeId.toString()],
          ["issuer", String(valid.claims.iss)],
          ["audience", ([] as unknown[]).concat(valid.claims.aud ?? []).join(", ")],
          [
            "expires",
            valid.claims.exp !== undefined ? new Date(valid.claims.exp * 1000).toISOString() : undefined,
          ],
          ["kid", valid.kid],
          ["alg", valid.alg],
          ["claims", JSON.stringify(valid.claims)],
        ]),
      );
  });
  return command;
}

/** sub without verification, only to pick the bundle; validateJwtSvid checks everything. */
function decodeSub(token: string): string {
  try {
    const { sub } = decodeJwt(token);
    return typeof sub === "string" ? sub : "";
  } catch {
    return ""; // validateJwtSvid refuses it with jwt_malformed
  }
}
