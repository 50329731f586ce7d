/**
 * The local API on 127.0.0.1: routing and the SSRF guard. Each route is its own module.
 * Opened before the extension registers, so it is up before the function's init runs;
 * until SVIDs are there, routes answer 503 `not_ready` (or wait for a refresh).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { BridgeError } from "../../../../lib/errors.js";
import type { SvidManager } from "../svid-manager.js";
import { tokenGuard } from "./auth.js";
import { bundleRoute } from "./bundle-route.js";
import { errorReply, json, type Reply, readJson, send } from "./http.js";
import { jwtSvidRoute } from "./jwt-svid-route.js";
import { validateRoute } from "./validate-route.js";
import { x509SvidRoute } from "./x509-svid-route.js";

export interface LocalApiOptions {
  manager: SvidManager;
  apiToken: string;
  /** The bridge's issuer: POST /v1/validate-jwt accepts only tokens whose `iss` is it. */
  issuer: string;
}

const ROUTES: Record<
  string,
  {
    method: string;
    handle: (req: IncomingMessage, url: URL, m: SvidManager, o: LocalApiOptions) => Promise<Reply>;
  }
> = {
  "/v1/jwt-svid": { method: "GET", handle: (_req, url, m) => jwtSvidRoute(url, m) },
  "/v1/x509-svid": { method: "GET", handle: (_req, url, m) => x509SvidRoute(url, m) },
  "/v1/bundle": { method: "GET", handle: (_req, url, m) => bundleRoute(url, m) },
  "/v1/validate-jwt": {
    method: "POST",
    handle: async (req, _url, m, o) => validateRoute(await readJson(req), m, o.issuer),
  },
  "/v1/ready": {
    method: "GET",
    handle: async (_req, _url, m) =>
      m.ready ? json({ ready: true }) : errorReply(new BridgeError("not_ready", "SVIDs are not ready yet")),
  },
};

export function createLocalApi(options: LocalApiOptions): Server {
  const authorized = tokenGuard(options.apiToken);
  const server = createServer(async (req, res) => {
    let reply: Reply;
    try {
      if (!authorized(req))
        throw new BridgeError("unauthorized", "send the function's AWS_SESSION_TOKEN in X-Svid-Bridge-Token");
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const route = ROUTES[url.pathname];
      if (!route) throw new BridgeError("not_found", `no route ${url.pathname}`);
      if (req.method !== route.method)
        throw new BridgeError("method_not_allowed", `${url.pathname} takes ${route.method}`);
      reply = await route.handle(req, url, options.manager, options);
    } catch (error) {
      reply = errorReply(error);
    }
    if (req.readableEnded || req.method === "GET") send(res, reply);
    else {
      // Drain what the client still sends, so it reads our answer instead of a reset.
      req.resume();
      req.on("end", () => send(res, reply));
    }
  });
  // A frozen sandbox drops idle sockets anyway; do not keep them around.
  server.keepAliveTimeout = 5_000;
  return server;
}

export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : port);
    });
  });
}
