/**
 * The Workload API's gRPC side (@grpc/grpc-js, the proto loaded with @grpc/proto-loader
 * from workload.proto beside this module or beside the layer's bundle). Loaded only when
 * a workload first connects (socket-server.ts), so a function that never uses the
 * Workload API never pays for gRPC. Connections arrive already accepted and are injected
 * into grpc-js's HTTP/2 server (`createConnectionInjector`); there is no port of its own.
 * Every RPC passes one guard first: the `workload.spiffe.io: true` metadata (exactly one
 * value, exactly "true"; SPIFFE Workload Endpoint §4, SPIRE's middleware), or
 * InvalidArgument.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  type handleServerStreamingCall,
  type handleUnaryCall,
  loadPackageDefinition,
  type Metadata,
  Server,
  ServerCredentials,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import type { Logger } from "../log.js";
import type { SvidManager } from "../svid-manager.js";
import * as rpc from "./handlers.js";
import { GrpcCode, RpcError, rpcErrorOf } from "./rpc-errors.js";

export const WORKLOAD_HEADER = "workload.spiffe.io";

export interface WorkloadGrpcServer {
  inject(connection: Duplex): void;
  /** Ends open streams (status OK), closes every session, within `graceMs`. */
  close(graceMs: number): Promise<void>;
}

/** workload.proto: beside the layer's bundle (svid-bridge/), else beside this source file. */
export function protoPath(): string {
  const here = typeof __dirname === "string" ? __dirname : dirname(fileURLToPath(import.meta.url));
  const beside = join(here, "workload.proto");
  return existsSync(beside) ? beside : join(here, "workload-api", "workload.proto");
}

/** The service from workload.proto; FetchJWTSVID's answers encoded once per SVID (encodeOnce). */
export function loadWorkloadService(): ServiceDefinition {
  const definition = loadSync(protoPath(), { keepCase: true, longs: Number, defaults: true, oneofs: true });
  const pkg = loadPackageDefinition(definition) as unknown as {
    SpiffeWorkloadAPI: { service: ServiceDefinition };
  };
  const service = pkg.SpiffeWorkloadAPI.service;
  const jwt = service.FetchJWTSVID!;
  return { ...service, FetchJWTSVID: { ...jwt, responseSerialize: encodeOnce(jwt.responseSerialize) } };
}

/**
 * Wraps a serializer so that a frozen answer is encoded once and its bytes reused for as
 * long as the object lives (a WeakMap by identity: messages.ts hands out one frozen
 * FetchJWTSVID answer per held SVID, so a new SVID is a new object and a new encoding).
 * A mutable answer is encoded every time, as before.
 */
export function encodeOnce<T>(serialize: (value: T) => Buffer): (value: T) => Buffer {
  const encoded = new WeakMap<object, Buffer>();
  return (value) => {
    if (typeof value !== "object" || value === null || !Object.isFrozen(value)) return serialize(value);
    let bytes = encoded.get(value);
    if (!bytes) {
      bytes = serialize(value);
      encoded.set(value, bytes);
    }
    return bytes;
  };
}

/** The one metadata rule, checked before any handler runs. */
export function hasWorkloadHeader(metadata: Metadata): boolean {
  const values = metadata.get(WORKLOAD_HEADER);
  return values.length === 1 && values[0] === "true";
}

type AnyCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;
type Handler = (call: AnyCall, callback?: (e: ServerErrorResponse | null, v?: unknown) => void) => void;

function refuse(call: AnyCall, callback: Parameters<Handler>[1], error: RpcError): void {
  const status = Object.assign(new Error(error.details), { code: error.code, details: error.details });
  if (callback) callback(status);
  else call.emit("error", status);
}

/** Wraps every handler of `impl` in the metadata guard (the interceptor). */
export function guarded(impl: Record<string, Handler>): UntypedServiceImplementation {
  const out: Record<string, Handler> = {};
  for (const [name, handler] of Object.entries(impl))
    out[name] = (call, callback) => {
      if (!hasWorkloadHeader(call.metadata))
        return refuse(
          call,
          callback,
          new RpcError(GrpcCode.InvalidArgument, `security header missing: ${WORKLOAD_HEADER}: true`),
        );
      handler(call, callback);
    };
  return out as UntypedServiceImplementation;
}

function sinkOf<T>(call: ServerWritableStream<unknown, T>): rpc.StreamSink<T> {
  return {
    write: (m) => void call.write(m),
    end: () => call.end(),
    fail: (e) => refuse(call as AnyCall, undefined, e),
    onClose: (fn) => {
      call.once("cancelled", fn);
      call.once("close", fn);
    },
  };
}

function unary<Q, R>(fn: (request: Q) => Promise<R>): handleUnaryCall<Q, R> {
  return (call, callback) => {
    fn(call.request).then(
      (reply) => callback(null, reply),
      (error) => refuse(call as AnyCall, callback as Parameters<Handler>[1], rpcErrorOf(error)),
    );
  };
}

function stream<R>(fn: (sink: rpc.StreamSink<R>) => void): handleServerStreamingCall<unknown, R> {
  return (call) => fn(sinkOf(call));
}

function unimplemented(what: string): Handler {
  return (call, callback) =>
    refuse(call, callback, new RpcError(GrpcCode.Unimplemented, `${what} is not supported by svid-bridge`));
}

export function workloadImplementation(manager: SvidManager): UntypedServiceImplementation {
  return guarded({
    FetchX509SVID: stream((sink) => rpc.fetchX509Svid(manager, sink)) as Handler,
    FetchX509Bundles: stream((sink) => rpc.fetchX509Bundles(manager, sink)) as Handler,
    FetchJWTBundles: stream((sink) => rpc.fetchJwtBundles(manager, sink)) as Handler,
    FetchJWTSVID: unary((q: rpc.JwtSvidRequest) => rpc.fetchJwtSvid(manager, q)) as Handler,
    ValidateJWTSVID: unary((q: rpc.ValidateRequest) => rpc.validateJwtSvid(manager, q)) as Handler,
    FetchWITSVID: unimplemented("FetchWITSVID"),
    FetchWITBundles: unimplemented("FetchWITBundles"),
  });
}

export function createWorkloadGrpcServer(manager: SvidManager, logger: Logger): WorkloadGrpcServer {
  const server = new Server();
  server.addService(loadWorkloadService(), workloadImplementation(manager));
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  logger.log("info", "Workload API: gRPC loaded on first connection");
  return {
    inject: (connection) => injector.injectConnection(connection),
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        injector.drain(graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
