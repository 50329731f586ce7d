/**
 * gRPC status codes the Workload API answers with (SPIFFE Workload API §5, SPIRE's
 * handler) and the one mapping from the SVID manager's errors to them. Numbers from
 * grpc's status codes (doc/statuscodes.md), so this module needs no gRPC library.
 */
import type { ErrorCode } from "../../../../lib/errors.js";
import type { ManagerStatus } from "../svid-manager.js";

export const GrpcCode = {
  InvalidArgument: 3,
  PermissionDenied: 7,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
} as const;

export type GrpcCodeValue = (typeof GrpcCode)[keyof typeof GrpcCode];

/** What grpc-js sends as a call's status: `code` and `details` (the message). */
export class RpcError extends Error {
  constructor(
    readonly code: GrpcCodeValue,
    readonly details: string,
  ) {
    super(details);
    this.name = "RpcError";
  }
}

/**
 * Why there is no identity to give: Unavailable while it is still being fetched (clients
 * retry with backoff), PermissionDenied when the exchange refused this caller.
 */
export function noIdentity(status: ManagerStatus): RpcError {
  if (status.kind === "refused")
    return new RpcError(GrpcCode.PermissionDenied, `no identity for this workload: ${status.error.message}`);
  return new RpcError(GrpcCode.Unavailable, "the SVIDs are still being fetched; retry");
}

/** A manager error as a status; never Internal for something the exchange or caller caused. */
export function rpcErrorOf(error: unknown): RpcError {
  if (error instanceof RpcError) return error;
  const bridge = asBridgeError(error);
  if (bridge) {
    if (bridge.code === "exchange_rejected" || bridge.code === "not_found")
      return new RpcError(GrpcCode.PermissionDenied, bridge.message);
    if (bridge.code === "not_ready" || bridge.code === "exchange_unavailable")
      return new RpcError(GrpcCode.Unavailable, bridge.message);
    if (bridge.status < 500) return new RpcError(GrpcCode.InvalidArgument, bridge.message);
  }
  return new RpcError(GrpcCode.Internal, "internal error");
}

/**
 * A BridgeError by shape, not instanceof: in the layer this module is bundled apart from
 * the manager (workload-grpc.cjs, loaded on first connection), with its own copy of the
 * class.
 */
function asBridgeError(error: unknown): { code: ErrorCode; status: number; message: string } | undefined {
  if (!(error instanceof Error) || error.name !== "BridgeError") return undefined;
  const { code, status } = error as Error & { code?: unknown; status?: unknown };
  return typeof code === "string" && typeof status === "number"
    ? { code: code as ErrorCode, status, message: error.message }
    : undefined;
}
