/**
 * How long the exchange's AWS SDK clients (DynamoDB, KMS, ACM PCA) wait for one call.
 * The SDK's default is no limit: a DynamoDB that accepted the connection and never
 * answered held every exchange request until the Lambda's 15 s timeout (found by the
 * hostile faults suite, issue 14). Per attempt; the SDK's retries (3 attempts by default)
 * come on top (a timed-out attempt is retried), so a call gives up after at most ~3 × (connect + request) plus back-off,
 * inside the exchange's 15 s with STS's 3 × 3 s running beside it.
 */
export const AWS_CONNECTION_TIMEOUT_MS = 1_000;
export const AWS_REQUEST_TIMEOUT_MS = 2_000;

/** Spread into every AWS SDK client the exchange makes (`new DynamoDBClient({...EXCHANGE_AWS_CLIENT_CONFIG})`). */
export const EXCHANGE_AWS_CLIENT_CONFIG = Object.freeze({
  requestHandler: Object.freeze({
    connectionTimeout: AWS_CONNECTION_TIMEOUT_MS,
    requestTimeout: AWS_REQUEST_TIMEOUT_MS,
    // Recent @smithy/node-http-handler only logs a warning when requestTimeout passes unless told to throw.
    throwOnRequestTimeout: true,
  }),
});
