/**
 * Retry with capped, jittered exponential backoff until a deadline; give up at once on
 * an answer that will not change (the exchange refused, e.g. no registration).
 */
import { BridgeError } from "../../../lib/errors.js";
import { errorFields, type Logger, silentLogger } from "./log.js";

export async function initWithRetry(
  attempt: () => Promise<void>,
  deadlineMs: number,
  logger: Logger = silentLogger,
  now: () => number = Date.now,
): Promise<true | Error> {
  let delay = 100;
  for (let n = 1; ; n++) {
    try {
      await attempt();
      return true;
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      if (err instanceof BridgeError && err.code === "exchange_rejected") return err;
      const wait = Math.min(delay, 2_000) * (0.5 + Math.random() / 2);
      if (now() + wait >= deadlineMs) return err;
      logger.log("warn", "init attempt failed; retrying", { attempt: n, ...errorFields(err) });
      await new Promise((r) => setTimeout(r, wait));
      delay *= 2;
    }
  }
}

/** Waits for `work`, but no longer than `ms` (never throws: the work logs its own failures). */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise((r) => {
      timer = setTimeout(r, Math.max(0, ms));
    }),
  ]);
  clearTimeout(timer);
}
