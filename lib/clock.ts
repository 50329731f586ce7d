/**
 * Time is a port: code in lib/ asks a Clock, never Date.now(), so tests freeze or
 * move time instead of sleeping (as jose's `currentDate` does).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that stands still until told to move. For tests and simulations. */
export class ManualClock implements Clock {
  #ms: number;
  constructor(start: number | Date = Date.now()) {
    this.#ms = typeof start === "number" ? start : start.getTime();
  }
  now(): number {
    return this.#ms;
  }
  advance(ms: number): void {
    this.#ms += ms;
  }
  set(ms: number | Date): void {
    this.#ms = typeof ms === "number" ? ms : ms.getTime();
  }
}

export function epochSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
