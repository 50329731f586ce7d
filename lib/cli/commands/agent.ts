/**
 * `svid-bridge agent`: a long-running process that gives this host's workloads a SPIFFE
 * identity proven from its AWS credentials (lib/agent/agent.ts), served on the SPIFFE
 * Workload API socket, and optionally the local HTTP API and files. SIGTERM or Ctrl-C
 * ends streams, removes the socket and the key files, and exits 0.
 */
import { isAbsolute } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { startAgent } from "../../agent/agent.js";
import { SpiffeId } from "../../spiffe/spiffe-id.js";
import { exchangeTarget } from "../exchange-client.js";
import { UsageError } from "../exit-codes.js";
import type { CliIo } from "../output.js";

interface AgentFlags {
  socket?: string;
  jwtAudience: string[];
  filesDir?: string;
  httpPort?: number;
  spiffeId?: string;
  url?: string;
  serverId?: string;
  region?: string;
  profile?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("must be a port number (0-65535)");
  return n;
}

/**
 * The socket path from `--socket` or SPIFFE_ENDPOINT_SOCKET: a path, or `unix:///path`
 * (SPIFFE Workload Endpoint §4: no authority); `tcp://` is not served.
 */
export function socketPath(raw: string): string {
  const path = raw.startsWith("unix://") ? raw.slice("unix://".length) : raw;
  if (raw.startsWith("tcp:") || !isAbsolute(path))
    throw new UsageError(`the socket must be an absolute path or unix:///path, not ${JSON.stringify(raw)}`);
  if (Buffer.byteLength(path) > 107) throw new UsageError("the socket path is longer than 107 bytes");
  return path;
}

/** One JSON line per event on stderr: stdout stays free for whoever runs the agent. */
function agentLogger(io: CliIo) {
  return {
    log(level: string, message: string, fields?: Record<string, unknown>) {
      io.stderr.write(
        `${JSON.stringify({ level, agent: "svid-bridge", message, ...fields, time: new Date().toISOString() })}\n`,
      );
    },
  };
}

export function attach(program: Command, io: CliIo): Command {
  const command = program
    .command("agent")
    .summary("serve this host's SPIFFE identity (Workload API socket, local API, files)")
    .description(
      "Proves this host's AWS identity (the SDK's default credential chain: instance profile, " +
        "ECS task role, EKS Pod Identity or IRSA, env, SSO, …) to the bridge, as the Lambda " +
        "extension does, and serves the SVIDs on the SPIFFE Workload API socket for go-spiffe, " +
        "py-spiffe, java-spiffe and Envoy. Refreshes at half-life. SIGTERM removes the socket and key files.",
    )
    .option("--socket <path>", "the Workload API socket (default: SPIFFE_ENDPOINT_SOCKET)")
    .option("--jwt-audience <aud>", "a JWT-SVID audience to keep fresh (repeat for several)", collect, [])
    .option("--files-dir <dir>", "also write svid.pem, svid_key.pem (0600) and bundle.pem here")
    .option(
      "--http-port <n>",
      "also serve the local HTTP API on 127.0.0.1 (needs SVID_BRIDGE_API_TOKEN)",
      port,
    )
    .option("--spiffe-id <id>", "ask for this SPIFFE ID when several registrations match the host")
    .option("--url <url>", "the exchange's base URL (default: SVID_BRIDGE_URL)")
    .option(
      "--server-id <id>",
      "the bridge's server ID (default: SVID_BRIDGE_SERVER_ID, else SVID_BRIDGE_ISSUER)",
    )
    .option("--region <region>", "AWS Region whose STS vouches for the host (default: AWS_REGION)")
    .option("--profile <name>", "named AWS profile (default: the SDK's chain)")
    .option("--json", "errors as JSON too (the agent logs JSON lines either way)");
  command.addHelpText(
    "after",
    `
Examples:
  $ svid-bridge agent --socket /tmp/svid-bridge/agent.sock
  $ SPIFFE_ENDPOINT_SOCKET=unix:///run/svid-bridge/agent.sock svid-bridge agent --jwt-audience sts.amazonaws.com`,
  );
  command.action(async (flags: AgentFlags) => {
    const target = exchangeTarget(flags, io.env);
    const rawSocket = flags.socket ?? io.env.SPIFFE_ENDPOINT_SOCKET;
    if (!rawSocket && !flags.filesDir && flags.httpPort === undefined)
      throw new UsageError(
        "nothing to serve: pass --socket (or set SPIFFE_ENDPOINT_SOCKET), --files-dir or --http-port",
      );
    if (flags.spiffeId && !SpiffeId.tryParse(flags.spiffeId).ok)
      throw new UsageError(`--spiffe-id is not a SPIFFE ID: ${flags.spiffeId}`);
    if (flags.filesDir && !isAbsolute(flags.filesDir))
      throw new UsageError("--files-dir must be an absolute path");
    const apiToken = io.env.SVID_BRIDGE_API_TOKEN;
    if (flags.httpPort !== undefined && !apiToken)
      throw new UsageError(
        "--http-port needs SVID_BRIDGE_API_TOKEN: the secret every local API request must carry",
      );
    const logger = agentLogger(io);
    const agent = await startAgent({
      ...target,
      ...(rawSocket && { socket: socketPath(rawSocket) }),
      jwtAudiences: [...new Set(flags.jwtAudience)],
      ...(flags.spiffeId && { spiffeId: flags.spiffeId }),
      ...(flags.filesDir && { filesDir: flags.filesDir }),
      ...(flags.httpPort !== undefined && { httpPort: flags.httpPort, apiToken }),
      ...(io.env.SVID_BRIDGE_ISSUER && { issuer: io.env.SVID_BRIDGE_ISSUER }),
      logger,
    });
    const signal = await new Promise<string>((resolve) => {
      const stop = (name: string) => () => {
        process.off("SIGINT", onInt);
        process.off("SIGTERM", onTerm);
        resolve(name);
      };
      const onInt = stop("SIGINT");
      const onTerm = stop("SIGTERM");
      process.once("SIGINT", onInt);
      process.once("SIGTERM", onTerm);
    });
    await agent.stop();
    logger.log("info", "stopped", { signal });
  });
  return command;
}
