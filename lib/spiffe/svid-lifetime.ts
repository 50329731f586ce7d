/**
 * When a held SVID may be served and when it is due for renewal: one rule for every
 * holder (the extension's SvidManager, the in-process source in layers/client). Times are
 * epoch milliseconds; a lifetime is measured from receipt, not from the SVID's (backdated)
 * start, so a skewed issuer clock cannot shorten the margin.
 */

/** The safety margin never exceeds this: a token served at its last instant is useless. */
export const SAFETY_MARGIN_MAX_MS = 5_000;
/** A trust bundle older than this is refreshed (in the background, where the holder can). */
export const BUNDLE_MAX_AGE_MS = 5 * 60_000;

export interface HeldLifetime {
  /** Epoch ms at which the SVID was received. */
  receivedAt: number;
  /** Epoch ms of the SVID's expiry. */
  expiresAtMs: number;
}

/** A tenth of the lifetime, at most SAFETY_MARGIN_MAX_MS. */
export function safetyMarginMs(held: HeldLifetime): number {
  return Math.min(SAFETY_MARGIN_MAX_MS, (held.expiresAtMs - held.receivedAt) / 10);
}

/** May it still be handed out at `now`? Never within its safety margin of expiry. */
export function isServable(held: HeldLifetime, now: number): boolean {
  return now < held.expiresAtMs - safetyMarginMs(held);
}

/** When half its lifetime has passed, epoch ms: the time to renew it. */
export function refreshDueAt(held: HeldLifetime): number {
  return held.receivedAt + (held.expiresAtMs - held.receivedAt) / 2;
}

/** Past half its lifetime: renew it (it stays servable meanwhile). */
export function isRefreshDue(held: HeldLifetime, now: number): boolean {
  return now >= refreshDueAt(held);
}

/**
 * A restore from a snapshot, or a clock set while frozen: the wall clock moved more (or
 * less) than a clock that never jumps (performance.now) by over `thresholdMs` between two
 * observations.
 */
export function clockJumped(
  last: { wall: number; mono: number },
  now: { wall: number; mono: number },
  thresholdMs: number,
): boolean {
  return Math.abs(now.wall - last.wall - (now.mono - last.mono)) > thresholdMs;
}
