/**
 * The Workload API's RPCs, each a translation from the SVID manager to a reply (as
 * SPIRE's workload handler keeps them): no gRPC here, only sinks, so the rules are
 * tested without a socket. Streams send the current state at once, then the full state
 * again on every change the manager publishes (a repeat of the same bytes is skipped),
 * and end cleanly when the manager closes (SHUTDOWN, SIGTERM).
 */
import { validateJwtSvid as validate } from "../../../../lib/spiffe/jwt-svid.js";
import {
  audienceRule,
  MAX_AUDIENCE_LENGTH,
  MAX_AUDIENCES,
  MAX_JWT_SVID_LENGTH,
} from "../../../../lib/spiffe/jwt-svid-limits.js";
import { SpiffeId } from "../../../../lib/spiffe/spiffe-id.js";
import type { SvidListener, SvidManager } from "../svid-manager.js";
import {
  type BundlesResponse,
  jwtBundlesResponse,
  jwtSvidResponse,
  toStruct,
  type X509SvidResponse,
  x509BundlesResponse,
  x509SvidResponse,
} from "./messages.js";
import { GrpcCode, noIdentity, RpcError, rpcErrorOf } from "./rpc-errors.js";

/** Where a stream's messages go; `onClose` fires once when the client goes away. */
export interface StreamSink<T> {
  write(message: T): void;
  end(): void;
  fail(error: RpcError): void;
  onClose(fn: () => void): void;
}

export function fetchX509Svid(manager: SvidManager, sink: StreamSink<X509SvidResponse>): void {
  watch(
    manager,
    sink,
    async () => {
      requireIdentity(manager, () => manager.currentX509());
      // Served: past half-life this kicks a refresh in the background (the core's rule).
      return x509SvidResponse(await manager.x509Svid());
    },
    (push) => ({ x509Changed: (svid) => push(x509SvidResponse(svid)) }),
    (m) => m.svids[0]!.x509_svid,
  );
}

export function fetchX509Bundles(manager: SvidManager, sink: StreamSink<BundlesResponse>): void {
  watchBundle(manager, sink, x509BundlesResponse);
}

export function fetchJwtBundles(manager: SvidManager, sink: StreamSink<BundlesResponse>): void {
  watchBundle(manager, sink, jwtBundlesResponse);
}

export interface JwtSvidRequest {
  audience?: string[];
  spiffe_id?: string;
}

export async function fetchJwtSvid(manager: SvidManager, request: JwtSvidRequest) {
  const audiences = [...new Set(request.audience ?? [])];
  if (audiences.length === 0) throw invalidArgument("audience must be set");
  if (audiences.length > MAX_AUDIENCES) throw invalidArgument(`at most ${MAX_AUDIENCES} audiences`);
  for (const a of audiences) {
    const broken = audienceRule(a);
    if (broken) throw invalidArgument(`every audience ${broken}`);
  }
  const wanted = request.spiffe_id ? parseId(request.spiffe_id) : undefined;
  const status = manager.status();
  if (status.kind !== "ready") throw noIdentity(status);
  let svid: Awaited<ReturnType<SvidManager["jwtSvid"]>>;
  try {
    svid = await manager.jwtSvid(audiences.length === 1 ? audiences[0]! : audiences);
  } catch (error) {
    throw rpcErrorOf(error);
  }
  if (wanted && wanted !== svid.spiffeId)
    throw new RpcError(GrpcCode.PermissionDenied, `this workload is not entitled to ${wanted}`);
  return jwtSvidResponse(svid);
}

export interface ValidateRequest {
  audience?: string;
  svid?: string;
}

export async function validateJwtSvid(manager: SvidManager, request: ValidateRequest) {
  const { audience, svid } = request;
  if (!audience || audience.length > MAX_AUDIENCE_LENGTH) throw invalidArgument("audience must be set");
  if (!svid || svid.length > MAX_JWT_SVID_LENGTH)
    throw invalidArgument("svid must be a JWT of at most 16 KiB");
  let bundle: Awaited<ReturnType<SvidManager["bundle"]>>;
  try {
    bundle = await manager.bundle();
  } catch (error) {
    throw rpcErrorOf(error);
  }
  try {
    const valid = await validate(svid, { audience, bundles: bundle, trustDomains: [bundle.trustDomain] });
    return {
      spiffe_id: valid.spiffeId.toString(),
      claims: toStruct(valid.claims as Record<string, unknown>),
    };
  } catch (error) {
    // A token that does not validate is the caller's input: InvalidArgument, as SPIRE.
    throw new RpcError(GrpcCode.InvalidArgument, `the JWT-SVID is not valid: ${(error as Error).message}`);
  }
}

function watchBundle(
  manager: SvidManager,
  sink: StreamSink<BundlesResponse>,
  build: typeof x509BundlesResponse,
): void {
  watch(
    manager,
    sink,
    async () => {
      requireIdentity(manager, () => manager.currentBundle());
      return build(await manager.bundle());
    },
    (push) => ({ bundleChanged: (bundle) => push(build(bundle)) }),
    (m) => Object.values(m.bundles)[0] ?? Buffer.alloc(0),
  );
}

/** A stream opens on what the manager holds: refused (noIdentity) before the first SVID, unless `held` has one. */
function requireIdentity(manager: SvidManager, held: () => unknown): void {
  const status = manager.status();
  if (status.kind !== "ready" && !held()) throw noIdentity(status);
}

/**
 * The stream pattern: subscribe first (so no change between the first message and the
 * subscription is lost), send the current state, then every change whose bytes differ.
 */
function watch<T>(
  manager: SvidManager,
  sink: StreamSink<T>,
  first: () => Promise<T>,
  listener: (push: (m: T) => void) => SvidListener,
  fingerprint: (m: T) => Buffer,
): void {
  let last: Buffer | undefined;
  let open = true;
  const push = (m: T) => {
    const print = fingerprint(m);
    if (!open || last?.equals(print)) return;
    last = print;
    sink.write(m);
  };
  const unsubscribe = manager.subscribe({
    ...listener(push),
    closed: () => {
      if (open) sink.end();
      open = false;
    },
  });
  sink.onClose(() => {
    open = false;
    unsubscribe();
  });
  // A change published while the first state was read is newer: it wins.
  first().then(
    (m) => last === undefined && push(m),
    (error) => {
      if (!open) return;
      open = false;
      unsubscribe();
      sink.fail(rpcErrorOf(error));
    },
  );
}

function invalidArgument(message: string): RpcError {
  return new RpcError(GrpcCode.InvalidArgument, message);
}

function parseId(raw: string): string {
  const parsed = SpiffeId.tryParse(raw);
  if (!parsed.ok) throw invalidArgument(`spiffe_id is not a SPIFFE ID: ${parsed.error.message}`);
  return parsed.id.toString();
}
