/**
 * AWS connection flags as the AWS CLI spells them: `--endpoint-url` (DynamoDB only),
 * `--region`, `--profile`. Region and profile fall back to AWS_REGION / AWS_DEFAULT_REGION
 * and AWS_PROFILE, then to ~/.aws/config, as the SDK's default chain does. Every command
 * that talks to AWS adds these with `addAwsOptions` and builds clients from `awsClientConfig`.
 */
import type { Command } from "commander";
import { awsRegion, baseUrl } from "./values.js";

export interface AwsOptions {
  endpointUrl?: string;
  region?: string;
  profile?: string;
}

export function addAwsOptions(command: Command): Command {
  return command
    .option(
      "--endpoint-url <url>",
      "send DynamoDB requests here instead of AWS (e.g. dynalite, DynamoDB Local)",
      baseUrl,
    )
    .option(
      "--region <region>",
      "AWS Region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's)",
      awsRegion,
    )
    .option(
      "--profile <name>",
      "named profile from ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE)",
    );
}

/** Options for any AWS SDK v3 client constructor. */
export function awsClientConfig(
  options: AwsOptions,
  env: NodeJS.ProcessEnv,
): { region?: string; profile?: string; endpoint?: string } {
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const endpoint = options.endpointUrl;
  return {
    ...(region !== undefined && { region }),
    ...(options.profile !== undefined && { profile: options.profile }),
    ...(endpoint !== undefined && { endpoint }),
  };
}
