/**
 * What the exchange counts and times. A port, so core code does not depend on
 * Powertools; the Powertools (EMF) adapter lives with the handler.
 */
import type { ErrorCode } from "../errors.js";
import type { SvidKind } from "../ports/registration-store.js";

export type Dependency = "sts" | "dynamodb" | "kms" | "pca" | "ca";

export interface ExchangeMetrics {
  issued(kind: SvidKind, count: number): void;
  denied(code: ErrorCode): void;
  dependencyLatency(dependency: Dependency, ms: number): void;
  /** Called once per request, after the answer is built. */
  flush?(): void;
}

export const noMetrics: ExchangeMetrics = {
  issued: () => {},
  denied: () => {},
  dependencyLatency: () => {},
};

/** Wraps an async function so each call's latency is reported under `dependency`. */
export function timed<A extends unknown[], R>(
  metrics: () => ExchangeMetrics,
  dependency: Dependency,
  fn: (...args: A) => Promise<R>,
  now: () => number = () => performance.now(),
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const start = now();
    try {
      return await fn(...args);
    } finally {
      metrics().dependencyLatency(dependency, now() - start);
    }
  };
}
