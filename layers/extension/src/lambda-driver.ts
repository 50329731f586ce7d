/**
 * The Lambda host's driver around the SVID manager: the Extensions API loop. Lambda
 * freezes the sandbox between invokes, so there are no timers: every INVOKE is a wake-up
 * (`manager.refresh()`, finished before event/next reports the invoke done, since work
 * cut by the freeze would die), and SHUTDOWN ends everything within its deadline.
 */
import type { ExtensionEvent } from "./extensions-api.js";
import { settleWithin } from "./init-retry.js";
import type { Logger } from "./log.js";
import type { SvidManager } from "./svid-manager.js";

export interface LambdaDriverOptions {
  /** event/next: blocks until the next event. */
  next(): Promise<ExtensionEvent>;
  manager: SvidManager;
  /** Closes listeners (local API, Workload API socket), the manager, files. */
  shutdown(): Promise<void>;
  logger: Logger;
  now?: () => number;
}

/** Runs until SHUTDOWN, then resolves (the caller exits the process). */
export async function driveLambda(options: LambdaDriverOptions): Promise<void> {
  const now = options.now ?? Date.now;
  for (;;) {
    const event = await options.next();
    if (event.eventType === "SHUTDOWN") {
      // Leave a margin for the process to exit before Lambda's SIGKILL.
      await settleWithin(options.shutdown(), event.deadlineMs - now() - 100);
      options.logger.log("info", "shut down", { reason: event.shutdownReason });
      return;
    }
    await settleWithin(options.manager.refresh(), event.deadlineMs - now() - 200);
  }
}
