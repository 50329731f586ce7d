/**
 * middy error middleware for every HTTP Lambda of the bridge: a BridgeError becomes
 * `{error, message}` with its status (the message only when the error is exposable);
 * anything else becomes 500 `internal_error` with a generic message. 5xx are logged with
 * their cause (server side only); 4xx are logged at INFO without a stack: they are the
 * client's doing, and a flood of them must not look like an outage.
 */
import type { MiddlewareObj } from "@middy/core";
import { BridgeError } from "../errors.js";
import type { HttpResponse } from "./http-types.js";
import { errorToResponse } from "./responses.js";

export interface ErrorLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface HttpErrorHandlerOptions {
  logger?: ErrorLogger;
  /** Headers added to error answers too (e.g. CORS), so browsers can read the error. */
  headers?: Record<string, string>;
}

export function httpErrorHandler(
  options: HttpErrorHandlerOptions = {},
): MiddlewareObj<unknown, HttpResponse, Error> {
  return {
    onError: async (request) => {
      const error = request.error;
      const response = errorToResponse(error, options.headers);
      if (response.statusCode >= 500) {
        options.logger?.error("request failed", {
          status: response.statusCode,
          code: error instanceof BridgeError ? error.code : "internal_error",
          error: error as Error,
        });
      } else if (error instanceof BridgeError) {
        options.logger?.info("request refused", { status: response.statusCode, code: error.code });
      }
      request.response = response;
    },
  };
}
