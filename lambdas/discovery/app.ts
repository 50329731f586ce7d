/**
 * The discovery Lambda's handler, built from its parts (tests and `svid-bridge dev`
 * build it with local ones; handler.ts with the AWS ones).
 */
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { type ErrorLogger, httpErrorHandler } from "../../lib/http/error-middleware.js";
import { requestFromEvent } from "../../lib/http/function-url-event.js";
import type { HttpRequest, HttpResponse } from "../../lib/http/http-types.js";

export interface DiscoveryHandlerDeps {
  endpoint: (request: HttpRequest) => Promise<HttpResponse>;
  logger?: ErrorLogger;
}

export function createDiscoveryHandler(deps: DiscoveryHandlerDeps) {
  return middy<APIGatewayProxyEventV2, HttpResponse, Error, Context>()
    .use(
      httpErrorHandler({
        ...(deps.logger && { logger: deps.logger }),
        headers: { "access-control-allow-origin": "*" },
      }),
    )
    .handler(async (event: APIGatewayProxyEventV2) => deps.endpoint(requestFromEvent(event)));
}
