import type { Command } from "commander";
import { checkPublicUrl, verifyJwtSvidThroughDiscovery } from "../../discovery/relying-party.js";
import { TrustDomain } from "../../spiffe/spiffe-id.js";
import { UsageError } from "../exit-codes.js";
import { type CliIo, formatFields, writeJson } from "../output.js";

interface VerifyFlags {
  audience: string;
  issuer?: string;
  trustDomain?: string;
  json?: boolean;
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
    try {
      checkPublicUrl(issuer, flags.issuer !== undefined ? "--issuer" : "SVID_BRIDGE_ISSUER");
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const tdName = flags.trustDomain ?? io.env.SVID_BRIDGE_TRUST_DOMAIN;
    const expected = tdName !== undefined ? TrustDomain.parse(tdName) : undefined;
    const valid = await verifyJwtSvidThroughDiscovery(token, {
      issuer,
      audience: flags.audience,
      ...(expected && { trustDomain: expected }),
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
