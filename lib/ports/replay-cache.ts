/**
 * ReplayCache: each accepted proof is recorded once, for the freshness window, so a
 * captured proof cannot be spent twice. Adapters: DynamoDB (conditional put with an
 * expiry attribute) and in-memory.
 */
export interface ReplayCache {
  /**
   * Records `key` until `expiresAt` (epoch seconds). Resolves true when the key was new,
   * false when it was already recorded and not yet expired.
   */
  remember(key: string, expiresAt: number): Promise<boolean>;
}
