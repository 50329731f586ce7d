import type { Command } from "commander";
import { jwtBinding } from "../../proof/binding.js";
import { addExchangeOptions, type ExchangeFlags, exchangeTarget, requestSvids } from "../exchange-client.js";
import { type CliIo, writeJson } from "../output.js";

interface TokenFlags extends ExchangeFlags {
  audience: string[];
  spiffeId?: string;
}

interface JwtAnswer {
  svids: { spiffe_id: string; token: string; expires_at: number }[];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("token")
    .summary("get a JWT-SVID for whoever holds the local AWS credentials")
    .description(
      "Proves your AWS identity to the bridge (a signed, unsent sts:GetCallerIdentity) and " +
        "prints the JWT-SVID alone on stdout. Works against `svid-bridge dev` and a deployed bridge.",
    )
    .requiredOption("--audience <aud>", "the token's audience (repeat for several)", collect)
    .option("--spiffe-id <id>", "ask for this SPIFFE ID when several registrations match you");
  addExchangeOptions(command);
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge token --audience https://api.example.org
  $ TOKEN=$(svid-bridge token --audience sts.amazonaws.com --spiffe-id spiffe://example.org/orders)`,
  );
  command.action(async (flags: TokenFlags) => {
    const target = exchangeTarget(flags, io.env);
    const { audience, spiffeId } = flags;
    const binding = jwtBinding({ audience, ...(spiffeId && { spiffeId }) });
    const answer = await requestSvids<JwtAnswer>(target, "/v1/svid/jwt", { audience }, spiffeId, binding);
    if (flags.json) return void writeJson(io.stdout, answer);
    const [first, ...rest] = answer.svids;
    if (!first) throw new Error("the exchange answered with no SVID");
    io.stdout.write(`${first.token}\n`);
    if (rest.length > 0)
      io.stderr.write(
        `note: ${answer.svids.length} registrations match; printed ${first.spiffe_id} (choose with --spiffe-id: ${rest.map((s) => s.spiffe_id).join(", ")})\n`,
      );
  });
  return command;
}
