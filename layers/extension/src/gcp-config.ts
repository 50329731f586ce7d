/**
 * A GCP `external_account` credential configuration whose subject token comes from the
 * extension's local API: google-auth-library and the gcloud SDKs read the JWT-SVID from
 * credential_source.url (sending the guard header from credential_source.headers) and
 * exchange it at GCP STS themselves. Shape: https://google.aip.dev/auth/4117.
 */

export interface GcpExternalAccountInput {
  /**
   * The Workload Identity Federation provider's full name, GCP STS's `audience`:
   * `//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/POOL/providers/P`.
   */
  audience: string;
  /**
   * The JWT-SVID's `aud`. Default: `audience`, which a provider with no allowed audiences
   * accepts; a provider with `allowedAudiences` accepts only those, exactly.
   */
  tokenAudience?: string;
  /** The extension's local endpoint, e.g. http://127.0.0.1:2775. */
  endpoint: string;
  /** The value of X-Svid-Bridge-Token (see localApiGuardToken). A secret. */
  apiToken: string;
  /** When set, the federated token is exchanged for this service account's token. */
  serviceAccountEmail?: string;
  /** Default https://sts.googleapis.com/v1/token. */
  tokenUrl?: string;
}

export interface GcpExternalAccountConfig {
  type: "external_account";
  audience: string;
  subject_token_type: string;
  token_url: string;
  service_account_impersonation_url?: string;
  credential_source: {
    url: string;
    headers: Record<string, string>;
    format: { type: "json"; subject_token_field_name: string };
  };
}

/**
 * The secret the extension's local API wants in X-Svid-Bridge-Token, as the function's
 * own environment holds it: AWS_SESSION_TOKEN, or, in a SnapStart sandbox (credentials
 * from AWS_CONTAINER_CREDENTIALS_FULL_URI, no key variables), AWS_CONTAINER_AUTHORIZATION_TOKEN.
 * The extension's guard (config.ts, readConfig) takes the same one first.
 */
export function localApiGuardToken(env: Readonly<Record<string, string | undefined>>): string | undefined {
  return env.AWS_SESSION_TOKEN?.trim() || env.AWS_CONTAINER_AUTHORIZATION_TOKEN?.trim() || undefined;
}

export function gcpExternalAccountConfig(input: GcpExternalAccountInput): GcpExternalAccountConfig {
  const url = new URL("/v1/jwt-svid", input.endpoint);
  url.searchParams.set("audience", input.tokenAudience ?? input.audience);
  return {
    type: "external_account",
    audience: input.audience,
    subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    token_url: input.tokenUrl ?? "https://sts.googleapis.com/v1/token",
    ...(input.serviceAccountEmail && {
      service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${encodeURIComponent(input.serviceAccountEmail)}:generateAccessToken`,
    }),
    credential_source: {
      url: url.toString(),
      headers: { "X-Svid-Bridge-Token": input.apiToken },
      format: { type: "json", subject_token_field_name: "token" },
    },
  };
}
