/**
 * The exchange Lambda's HTTP surface, built from its parts (handler.ts wires the AWS
 * ones; tests and `svid-bridge dev` wire local ones). Routing, body parsing, logging and
 * metrics only: every decision is made in lib/exchange.
 */
import middy from "@middy/core";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { BridgeError } from "../../lib/errors.js";
import { type ExchangeMetrics, noMetrics } from "../../lib/exchange/exchange-metrics.js";
import type { ExchangeService, IssuanceEvent } from "../../lib/exchange/exchange-service.js";
import { type ErrorLogger, httpErrorHandler } from "../../lib/http/error-middleware.js";
import { requestFromEvent } from "../../lib/http/function-url-event.js";
import type { HttpRequest, HttpResponse } from "../../lib/http/http-types.js";
import { DEFAULT_MAX_BODY_BYTES, parseJsonBody } from "../../lib/http/json-body.js";
import { jsonResponse } from "../../lib/http/responses.js";
import type { CallerIdentity } from "../../lib/ports/caller-verifier.js";
import type { SvidKind } from "../../lib/ports/registration-store.js";
import type { TrustBundle } from "../../lib/spiffe/bundle.js";

export interface ExchangeLogger extends ErrorLogger {
  warn(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface ExchangeAppDeps {
  service: ExchangeService;
  bundle: () => Promise<TrustBundle>;
  logger?: ExchangeLogger;
  metrics?: ExchangeMetrics;
  maxBodyBytes?: number;
}

const NO_STORE = { "cache-control": "no-store" };

type Route = "jwt" | "x509" | "batch" | "bundle";
const ROUTES: Record<string, { method: string; route: Route }> = {
  "/v1/svid/jwt": { method: "POST", route: "jwt" },
  "/v1/svid/x509": { method: "POST", route: "x509" },
  "/v1/svid/batch": { method: "POST", route: "batch" },
  "/v1/bundle": { method: "GET", route: "bundle" },
};

/** The audit line for one issued SVID: never the token or the certificate itself. */
export function auditIssued(logger: ExchangeLogger | undefined, event: IssuanceEvent): void {
  logger?.info("svid issued", {
    audit: true,
    kind: event.kind,
    callerArn: event.callerArn,
    entryId: event.entryId,
    spiffeId: event.spiffeId,
    ...(event.kind === "jwt"
      ? { jti: event.serialOrJti, audience: event.audience }
      : { serial: event.serialOrJti }),
    expiresAt: new Date(event.expiresAt * 1000).toISOString(),
  });
}

type Issued = [kind: SvidKind, count: number, spiffeIds: string[]];
const idsOf = (svids: ReadonlyArray<{ spiffe_id: string }>) => svids.map((s) => s.spiffe_id);

/** Calls the service for one SVID route; says what was issued, per kind, for metrics and the decision log. */
async function issue(
  service: ExchangeService,
  route: Exclude<Route, "bundle">,
  body: unknown,
  observe: (identity: CallerIdentity) => void,
): Promise<{ answer: unknown; issued: Issued[] }> {
  if (route === "jwt") {
    const answer = await service.issueJwtSvids(body, observe);
    return { answer, issued: [["jwt", answer.svids.length, idsOf(answer.svids)]] };
  }
  if (route === "x509") {
    const answer = await service.issueX509Svids(body, observe);
    return { answer, issued: [["x509", answer.svids.length, idsOf(answer.svids)]] };
  }
  const answer = await service.issueBatch(body, observe);
  const jwt = answer.jwt.flatMap((a) => a.svids);
  const x509 = answer.x509?.svids ?? [];
  return {
    answer,
    issued: [
      ["jwt", jwt.length, idsOf(jwt)],
      ["x509", x509.length, idsOf(x509)],
    ],
  };
}

export function createExchangeEndpoint(deps: ExchangeAppDeps) {
  const metrics = deps.metrics ?? noMetrics;
  return async (request: HttpRequest): Promise<HttpResponse> => {
    const match = ROUTES[request.path];
    if (!match) throw new BridgeError("not_found", `no route ${request.path}`);
    if (request.method !== match.method && !(match.method === "GET" && request.method === "HEAD"))
      throw new BridgeError("method_not_allowed", `${request.path} takes ${match.method}`);
    if (match.route === "bundle") {
      const doc = await (await deps.bundle()).toDocument();
      return jsonResponse(200, doc, { "cache-control": "public, max-age=60" });
    }
    let caller: CallerIdentity | undefined;
    const observe = (identity: CallerIdentity) => {
      caller = identity;
    };
    try {
      const body = parseJsonBody(request, { maxBytes: deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES });
      const { answer, issued } = await issue(deps.service, match.route, body, observe);
      for (const [kind, count] of issued) if (count > 0) metrics.issued(kind, count);
      deps.logger?.info("exchange allowed", {
        decision: "allow",
        route: match.route,
        callerArn: caller?.arn,
        spiffeIds: [...new Set(issued.flatMap(([, , ids]) => ids))],
      });
      return jsonResponse(200, answer, NO_STORE);
    } catch (error) {
      if (error instanceof BridgeError && error.status < 500) {
        metrics.denied(error.code);
        deps.logger?.warn("exchange denied", {
          decision: "deny",
          route: match.route,
          reason: error.code,
          status: error.status,
          callerArn: caller?.arn,
          detail: error.message,
        });
      }
      throw error;
    } finally {
      metrics.flush?.();
    }
  };
}

export function createExchangeHandler(deps: ExchangeAppDeps) {
  const endpoint = createExchangeEndpoint(deps);
  return middy<APIGatewayProxyEventV2, HttpResponse, Error, Context>()
    .use(httpErrorHandler({ ...(deps.logger && { logger: deps.logger }), headers: NO_STORE }))
    .handler(async (event: APIGatewayProxyEventV2) => endpoint(requestFromEvent(event)));
}
