/**
 * `svid-bridge agent`: the extension's SVID manager on any host with AWS credentials
 * (EC2, ECS/Fargate, EKS, CodeBuild, CI, a laptop). It proves the host's IAM identity to
 * the exchange exactly as the extension does (a signed, unsent sts:GetCallerIdentity per
 * request), with credentials from the AWS SDK's default chain, and serves the same
 * things: the SPIFFE Workload API on a Unix socket, the local HTTP API (with
 * `httpPort`), and files (with `filesDir`). Timers drive refresh (timer-driver.ts).
 */
import type { Server } from "node:http";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import type { AwsCredentials } from "../../layers/extension/src/credentials.js";
import { HttpExchangeClient } from "../../layers/extension/src/exchange-client.js";
import { FilesWriter } from "../../layers/extension/src/files-writer.js";
import { createLocalApi, listen } from "../../layers/extension/src/local-api/server.js";
import { errorFields, type Logger } from "../../layers/extension/src/log.js";
import { stsProofBuilder } from "../../layers/extension/src/proof-builder.js";
import { SvidManager } from "../../layers/extension/src/svid-manager.js";
import { WorkloadApiSocket } from "../../layers/extension/src/workload-api/socket-server.js";
import { driveWithTimers, type TimerDriver } from "./timer-driver.js";

export interface AgentOptions {
  /** The exchange's base URL. */
  url: string;
  serverId: string;
  /** `iss` of the bridge's JWT-SVIDs, which the local API's validation pins. Default: `serverId`. */
  issuer?: string;
  /** The Region whose STS vouches for the host (the proof's scope). */
  region: string;
  /** A named profile for the SDK's chain; default: the chain as it stands. */
  profile?: string;
  /** The Workload API's socket path; none when undefined. */
  socket?: string;
  jwtAudiences: readonly string[];
  spiffeId?: string;
  filesDir?: string;
  /** The local HTTP API on 127.0.0.1 when set, guarded by `apiToken`. */
  httpPort?: number;
  apiToken?: string;
  /** Wall-clock jump that means the host was suspended or restored. Default 300 s. */
  clockJumpMs?: number;
  logger: Logger;
}

export interface RunningAgent {
  manager: SvidManager;
  socket: WorkloadApiSocket | undefined;
  httpPort: number | undefined;
  /** Resolves with the first tick (ready or not). */
  started: Promise<void>;
  /** Ends streams, closes the socket (removing it) and the HTTP API, removes key files. */
  stop(): Promise<void>;
}

export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  const chain = fromNodeProviderChain(o.profile ? { profile: o.profile } : {});
  const credentials = async (): Promise<AwsCredentials> => {
    const c = await chain();
    return {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken && { sessionToken: c.sessionToken }),
      ...(c.expiration && { expiration: c.expiration.getTime() }),
    };
  };
  const files = new FilesWriter({ ...(o.filesDir && { dir: o.filesDir }), tokenFiles: [] });
  const manager = new SvidManager({
    exchange: new HttpExchangeClient({
      baseUrl: o.url,
      proofs: stsProofBuilder({ credentials, region: o.region, serverId: o.serverId }),
    }),
    jwtAudiences: o.jwtAudiences,
    ...(o.spiffeId && { spiffeId: o.spiffeId }),
    x509: true,
    snapStart: false,
    clockJumpMs: o.clockJumpMs ?? 300_000,
    listener: files,
    logger: o.logger,
  });
  const socket = o.socket
    ? await WorkloadApiSocket.listen({ path: o.socket, manager, logger: o.logger })
    : undefined;
  let server: Server | undefined;
  let httpPort: number | undefined;
  if (o.httpPort !== undefined && o.apiToken) {
    server = createLocalApi({ manager, apiToken: o.apiToken, issuer: o.issuer ?? o.serverId });
    httpPort = await listen(server, o.httpPort);
  }
  const driver: TimerDriver = driveWithTimers({
    manager,
    logger: o.logger,
    onReady: () =>
      o.logger.log("info", "ready", {
        spiffeId: manager.currentX509()?.spiffeId,
        ...(o.socket && { socket: o.socket }),
        ...(httpPort !== undefined && { httpPort }),
        ...(o.filesDir && { filesDir: o.filesDir }),
      }),
  });
  return {
    manager,
    socket,
    httpPort,
    started: driver.started,
    async stop() {
      driver.stop();
      manager.close();
      server?.closeAllConnections();
      await Promise.all([
        socket?.close(500),
        server && new Promise<void>((resolve) => server.close(() => resolve())),
      ]);
      await files.remove().catch((e) => o.logger.log("warn", "removing files failed", errorFields(e)));
    },
  };
}
