import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { gcpExternalAccountConfig, localApiGuardToken } from "../../../layers/extension/src/gcp-config.js";
import { BridgeError } from "../../errors.js";
import { UsageError } from "../exit-codes.js";
import { checkOutFile } from "../out-path.js";
import type { CliIo } from "../output.js";
import { baseUrl, baseUrlFromEnv } from "../values.js";

interface GcpFlags {
  audience: string;
  tokenAudience?: string;
  localApiUrl?: string;
  serviceAccount?: string;
  out?: string;
  json?: boolean;
}

/** What GCP STS accepts as a workload identity pool provider's audience. */
const PROVIDER_AUDIENCE =
  /^\/\/iam\.googleapis\.com\/projects\/\d+\/locations\/global\/workloadIdentityPools\/[a-z0-9-]+\/providers\/[a-z0-9-]+$/;
const SERVICE_ACCOUNT = /^[a-z0-9-]+@[a-z0-9.-]+\.gserviceaccount\.com$/;

/**
 * The file holds a bearer secret (the session token): written to a fresh 0600 file and
 * renamed into place, so an existing file's wider mode never applies to it.
 */
async function writeSecretFile(path: string, text: string): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(temp, text, { mode: 0o600, flag: "wx" });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("gcp-config")
    .summary("print a GCP external_account credential configuration for a function")
    .description(
      "Prints the GCP Workload Identity Federation credential configuration (external_account) " +
        "whose subject token is the JWT-SVID the layer's local API serves. It holds the function's " +
        "AWS_SESSION_TOKEN, or AWS_CONTAINER_AUTHORIZATION_TOKEN under SnapStart (the local API's guard): " +
        "keep it in memory or a 0600 file (--out).",
    )
    .requiredOption(
      "--audience <aud>",
      "the provider's audience: //iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/POOL/providers/P",
    )
    .option(
      "--token-audience <aud>",
      "the JWT-SVID's aud, when the provider lists allowed audiences (default: --audience, which a provider without them accepts)",
    )
    .option(
      "--local-api-url <url>",
      "the extension's local API (default: SVID_BRIDGE_ENDPOINT, else http://127.0.0.1:2775)",
      baseUrl,
    )
    .option("--service-account <email>", "impersonate this service account")
    .option("--out <file>", "write it here (mode 0600) instead of stdout")
    .option("--json", "errors as JSON too (the configuration is JSON either way)");
  command.action(async (flags: GcpFlags) => {
    // A wrong audience would only show up later as GCP STS's invalid_target; say it now.
    if (!PROVIDER_AUDIENCE.test(flags.audience))
      throw new BridgeError(
        "invalid_request",
        `--audience must be a workload identity pool provider: //iam.googleapis.com/projects/PROJECT_NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER, not ${JSON.stringify(flags.audience)}`,
      );
    if (flags.serviceAccount !== undefined && !SERVICE_ACCOUNT.test(flags.serviceAccount))
      throw new BridgeError(
        "invalid_request",
        `--service-account must be a service account's email (NAME@PROJECT.iam.gserviceaccount.com), not ${JSON.stringify(flags.serviceAccount)}`,
      );
    if (flags.out !== undefined) await checkOutFile(flags.out);
    const apiToken = localApiGuardToken(io.env);
    if (!apiToken)
      throw new UsageError(
        "AWS_SESSION_TOKEN (or, under SnapStart, AWS_CONTAINER_AUTHORIZATION_TOKEN) is not set: the local API's guard header needs it",
      );
    const config = gcpExternalAccountConfig({
      audience: flags.audience,
      ...(flags.tokenAudience !== undefined && { tokenAudience: flags.tokenAudience }),
      endpoint:
        flags.localApiUrl ??
        (io.env.SVID_BRIDGE_ENDPOINT &&
          baseUrlFromEnv("SVID_BRIDGE_ENDPOINT", io.env.SVID_BRIDGE_ENDPOINT)) ??
        "http://127.0.0.1:2775",
      apiToken,
      ...(flags.serviceAccount && { serviceAccountEmail: flags.serviceAccount }),
    });
    const text = `${JSON.stringify(config, null, 2)}\n`;
    if (flags.out) await writeSecretFile(flags.out, text);
    else io.stdout.write(text);
  });
  return command;
}
