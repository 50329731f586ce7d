/**
 * The function `svid-bridge demo` runs: an ordinary Node.js Lambda handler. It holds no
 * AWS or SPIFFE code of its own; layers/client's shared source serves its SVIDs in the
 * mode the environment names, with the same code:
 * - with the svid-bridge layer attached, the layer's extension proved the function's IAM
 *   role at cold start and keeps its SVIDs fresh; the function asks its local API and,
 *   in files mode, finds them as PEM files too;
 * - with no layer (`demo --in-process`), the function's own process proves its role and
 *   calls the bridge's exchange, in the init phase (the top-level await below).
 *
 * The event: `{"audience": "…"}` (default "demo"), the audience of the JWT-SVID to get.
 * It answers with what it learnt about itself, public parts only: the private key never
 * leaves the function, and the JWT-SVID is returned for the demo to verify outside.
 */
import { X509Certificate } from "node:crypto";
import { readdirSync } from "node:fs";
import { sharedSvidSource } from "../../layers/client/index.js";
import { readViaWorkloadApi } from "./workload-api.js";

interface DemoEvent {
  audience?: unknown;
}

const client = sharedSvidSource();
// Init phase: in process, the exchange runs now (ESM top-level await); the extension has
// already done it in its own init, so this returns at once there.
await client.prefetch();

export const handler = async (event: DemoEvent | null) => {
  const audience = typeof event?.audience === "string" && event.audience ? event.audience : "demo";

  // A JWT-SVID for one audience: minted at init for the configured audiences, or now.
  const jwt = await client.jwtSvid(audience);
  // The X.509-SVID: a key made inside this sandbox, a certificate the bridge's CA issued.
  const x509 = await client.x509Svid();
  const leaf = new X509Certificate(x509.certificateChain.split(/(?<=-----END CERTIFICATE-----)/)[0]!);
  // What a receiving service does with a token it is sent: validated against the trust
  // bundle (signature, exp, aud, sub), by the extension or in process.
  const validated = await client.validateJwtSvid(jwt.token, audience);

  // The same identity through the SPIFFE Workload API socket (exported by the layer's wrapper).
  const socket = process.env.SPIFFE_ENDPOINT_SOCKET;
  const workloadApi = socket ? await readViaWorkloadApi(socket, audience) : undefined;

  const filesDir = process.env.SVID_BRIDGE_FILES_DIR;
  const result = {
    spiffeId: jwt.spiffeId,
    mode: client.mode,
    jwtSvid: {
      audience: jwt.audience,
      expiresAt: new Date(jwt.expiresAt * 1000).toISOString(),
      token: jwt.token,
      validated: validated.spiffeId,
    },
    x509Svid: {
      spiffeId: x509.spiffeId,
      uriSan: leaf.subjectAltName,
      serialNumber: leaf.serialNumber,
      notAfter: new Date(leaf.validTo).toISOString(),
      issuer: leaf.issuer,
      certificateChain: x509.certificateChain,
      privateKeyHeld: x509.privateKey.includes("BEGIN PRIVATE KEY"),
    },
    // The stable names; "..data" and the generation directories behind it are dot names.
    files: filesDir
      ? readdirSync(filesDir)
          .filter((n) => !n.startsWith("."))
          .sort()
      : [],
    // This process's resident memory after it got its SVIDs: the demo compares the modes.
    rssBytes: process.memoryUsage().rss,
    ...(workloadApi && { workloadApi }),
  };
  console.log(JSON.stringify({ level: "info", message: "read my SVIDs", spiffeId: result.spiffeId }));
  return result;
};
