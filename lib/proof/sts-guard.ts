/**
 * What a flood of junk proofs may cost the bridge (issue 14, fault 8). The server ID is
 * public and the binding computable, so a proof with a random signature passes every
 * local rule; without a guard each one costs a replay-table write and an STS call, and
 * enough of them get the bridge's STS calls throttled for every caller. Two defences,
 * per sandbox, in front of the replay write and the STS call:
 *
 *  - a cap on concurrent STS calls: above it a request is shed at once with 429
 *    `sts_busy` and `Retry-After`, instead of queueing into STS's throttling;
 *  - a short negative cache of credentials STS refused as unknown or expired
 *    (InvalidClientTokenId, ExpiredToken): the same junk again is refused locally
 *    (401 `proof_rejected`, rule `sts-refused-recently`). It is keyed by access key ID
 *    *and* session token, and never fed by SignatureDoesNotMatch: anyone can send a bad
 *    signature with someone else's access key ID, and must not get that key refused.
 */
import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import { BridgeError } from "../errors.js";
import type { CheckedProof } from "./proof-rules.js";

/** STS error codes that say the credentials themselves are bad, whatever the signature. */
export const CACHEABLE_STS_REFUSALS: ReadonlySet<string> = new Set(["InvalidClientTokenId", "ExpiredToken"]);
/** Seconds a client shed with sts_busy is told to wait. */
export const STS_BUSY_RETRY_AFTER_SECONDS = 1;

export interface StsGuardOptions {
  /** Concurrent STS calls (with their replay writes) per sandbox. */
  maxConcurrent: number;
  /** How long a refused credential is remembered, seconds. */
  negativeTtlSeconds: number;
  /** Bound on remembered credentials; the oldest go first. */
  maxNegativeEntries: number;
  clock: Clock;
}

export class StsGuard {
  readonly #options: StsGuardOptions;
  #inFlight = 0;
  /** credential key → epoch ms until which it is refused; insertion order = age. */
  readonly #refused = new Map<string, number>();

  constructor(options: StsGuardOptions) {
    this.#options = options;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Throws 401 proof_rejected when STS refused these credentials within the TTL. */
  assertNotRefused(checked: CheckedProof): void {
    const key = credentialKey(checked);
    const until = this.#refused.get(key);
    if (until === undefined) return;
    if (until > this.#options.clock.now())
      throw new BridgeError("proof_rejected", "STS refused these credentials moments ago", {
        details: { rule: "sts-refused-recently" },
      });
    this.#refused.delete(key);
  }

  /** Remembers the credentials when STS's code says they are bad whatever the signature. */
  noteRefusal(checked: CheckedProof, stsCode: string | undefined): void {
    if (!stsCode || !CACHEABLE_STS_REFUSALS.has(stsCode)) return;
    const key = credentialKey(checked);
    this.#refused.delete(key);
    this.#refused.set(key, this.#options.clock.now() + this.#options.negativeTtlSeconds * 1000);
    while (this.#refused.size > this.#options.maxNegativeEntries)
      this.#refused.delete(this.#refused.keys().next().value as string);
  }

  /** Runs `work` in one of the slots, or sheds with 429 sts_busy when all are taken. */
  async withSlot<T>(work: () => Promise<T>): Promise<T> {
    if (this.#inFlight >= this.#options.maxConcurrent)
      throw new BridgeError("sts_busy", "the bridge is busy asking STS: retry shortly", {
        details: { retryAfterSeconds: STS_BUSY_RETRY_AFTER_SECONDS, limit: this.#options.maxConcurrent },
      });
    this.#inFlight++;
    try {
      return await work();
    } finally {
      this.#inFlight--;
    }
  }
}

function credentialKey(checked: CheckedProof): string {
  const token = checked.headers.find(([name]) => name === "x-amz-security-token")?.[1] ?? "";
  return createHash("sha256").update(`${checked.accessKeyId}\n${token}`).digest("base64url");
}
