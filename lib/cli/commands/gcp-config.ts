import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { gcpExternalAccountConfig } from "../../../layers/extension/src/gcp-config.js";
import { UsageError } from "../exit-codes.js";
import type { CliIo } from "../output.js";

interface GcpFlags {
  audience: string;
  endpoint?: string;
  serviceAccount?: string;
  out?: string;
}

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("gcp-config")
    .summary("print a GCP external_account credential configuration for a function")
    .description(
      "Prints the GCP Workload Identity Federation credential configuration (external_account) " +
        "whose subject token is the JWT-SVID the layer's local API serves. It holds the function's " +
        "AWS_SESSION_TOKEN (the local API's guard): keep it in memory or a 0600 file (--out).",
    )
    .requiredOption(
      "--audience <aud>",
      "the provider's audience: //iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/POOL/providers/P",
    )
    .option(
      "--endpoint <url>",
      "the extension's local API (default: SVID_BRIDGE_ENDPOINT, else http://127.0.0.1:2775)",
    )
    .option("--service-account <email>", "impersonate this service account")
    .option("--out <file>", "write it here (mode 0600) instead of stdout");
  command.action(async (flags: GcpFlags) => {
    const apiToken = io.env.AWS_SESSION_TOKEN;
    if (!apiToken)
      throw new UsageError("AWS_SESSION_TOKEN is not set: the local API's guard header needs it");
    const config = gcpExternalAccountConfig({
      audience: flags.audience,
      endpoint: flags.endpoint ?? io.env.SVID_BRIDGE_ENDPOINT ?? "http://127.0.0.1:2775",
      apiToken,
      ...(flags.serviceAccount && { serviceAccountEmail: flags.serviceAccount }),
    });
    const text = `${JSON.stringify(config, null, 2)}\n`;
    if (flags.out) await writeFile(flags.out, text, { mode: 0o600 });
    else io.stdout.write(text);
  });
  return command;
}
