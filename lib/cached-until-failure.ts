/**
 * "Cache a promise, drop it on failure", written once: the first call starts `make()`,
 * every later call shares that promise while it is pending or fulfilled, and a rejection
 * is forgotten so the next call tries again (a PCA, KMS or DynamoDB fault must not stick
 * for a sandbox's life). Callers of the failed attempt still see its rejection.
 */
export function cachedUntilFailure<T>(make: () => Promise<T>): () => Promise<T> {
  let cached: Promise<T> | undefined;
  return () => {
    if (!cached) {
      const pending = make();
      cached = pending;
      pending.catch(() => {
        if (cached === pending) cached = undefined;
      });
    }
    return cached;
  };
}
