/**
 * The request and response shapes every HTTP handler of the bridge works with, whatever
 * carries them: a Lambda Function URL or API Gateway HTTP API (payload v2), or the
 * local node:http adapter of `svid-bridge dev` and the tests.
 */
export interface HttpRequest {
  /** Upper case: GET, HEAD, POST… */
  method: string;
  /** Raw path, no query string. */
  path: string;
  /** Lower-case names; repeated headers joined with ", " (as payload v2 does). */
  headers: Readonly<Record<string, string>>;
  query: Readonly<Record<string, string>>;
  /** Raw body bytes; empty when none. */
  body: Buffer;
  requestId?: string;
  sourceIp?: string;
}

/** Payload v2 structured result: what a Function URL handler returns. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
}
