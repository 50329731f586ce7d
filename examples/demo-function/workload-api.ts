/**
 * The demo function's second way to its identity: the SPIFFE Workload API, as go-spiffe,
 * py-spiffe or java-spiffe read it, on the socket the layer's exec wrapper names in
 * SPIFFE_ENDPOINT_SOCKET. A plain @grpc/grpc-js client with the project's workload.proto
 * (svid-bridge demo puts it beside the bundled function).
 */
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { credentials, loadPackageDefinition, Metadata, type ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

export interface ViaWorkloadApi {
  socket: string;
  spiffeId: string;
  serialNumber: string;
  jwtSpiffeId: string;
}

type Client = {
  FetchX509SVID(req: object, md: Metadata): NodeJS.EventEmitter & { cancel(): void };
  FetchJWTSVID(req: object, md: Metadata, cb: (e: ServiceError | null, v: unknown) => void): void;
  close(): void;
};

export async function readViaWorkloadApi(endpoint: string, audience: string): Promise<ViaWorkloadApi> {
  const proto = join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), "workload.proto");
  const pkg = loadPackageDefinition(loadSync(proto, { keepCase: true })) as unknown as {
    SpiffeWorkloadAPI: new (target: string, creds: unknown) => Client;
  };
  const client = new pkg.SpiffeWorkloadAPI(endpoint, credentials.createInsecure());
  const md = new Metadata();
  md.set("workload.spiffe.io", "true"); // every Workload API call carries it
  try {
    const x509 = await new Promise<{ svids: { spiffe_id: string; x509_svid: Buffer }[] }>(
      (resolve, reject) => {
        const call = client.FetchX509SVID({}, md);
        call.once("data", (m) => {
          resolve(m);
          call.cancel();
        });
        call.once("error", reject);
      },
    );
    const jwt = await new Promise<{ svids: { spiffe_id: string }[] }>((resolve, reject) =>
      client.FetchJWTSVID({ audience: [audience] }, md, (e, v) => (e ? reject(e) : resolve(v as never))),
    );
    const svid = x509.svids[0]!;
    return {
      socket: endpoint,
      spiffeId: svid.spiffe_id,
      // The DER chain, leaf first: X509Certificate reads the leaf.
      serialNumber: new X509Certificate(svid.x509_svid).serialNumber,
      jwtSpiffeId: jwt.svids[0]!.spiffe_id,
    };
  } finally {
    client.close();
  }
}
