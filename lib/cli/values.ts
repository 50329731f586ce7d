/**
 * Parsers for option values that have a shape: a malformed one is a usage error (exit 1)
 * at parse time, naming the option, before anything is requested. The same checks serve
 * the environment variables the options default to.
 */
import { InvalidArgumentError } from "commander";
import { UsageError } from "./exit-codes.js";

/** An http(s) URL with a host and no credentials, query or fragment: a base URL. */
export function checkBaseUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "not a URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be http:// or https://";
  if (!url.hostname) return "has no host";
  if (url.username || url.password) return "must not hold credentials";
  if (url.search || url.hash) return "must have no query or fragment";
  return undefined;
}

/** Commander parser for `--url`, `--endpoint-url`, `--local-api-url`. */
export function baseUrl(value: string): string {
  const problem = checkBaseUrl(value);
  if (problem) throw new InvalidArgumentError(`${problem} (e.g. http://127.0.0.1:8787)`);
  return value;
}

/** The same check for a value taken from the environment: names the variable. */
export function baseUrlFromEnv(name: string, value: string): string {
  const problem = checkBaseUrl(value);
  if (problem) throw new UsageError(`${name}=${value} is ${problem}`);
  return value;
}

/** us-east-1, eu-central-2, us-gov-west-1, cn-north-1, … */
const REGION = /^[a-z]{2}(?:-[a-z]+){1,3}-\d{1,2}$/;

export function checkRegion(value: string): boolean {
  return REGION.test(value);
}

/** Commander parser for `--region`. */
export function awsRegion(value: string): string {
  if (!checkRegion(value)) throw new InvalidArgumentError("not an AWS Region (e.g. us-east-1)");
  return value;
}
