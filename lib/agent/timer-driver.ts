/**
 * The agent host's driver around the SVID manager: timers, since nothing freezes an
 * agent. Each tick is a wake-up (`manager.refresh()`: the first one fetches everything,
 * later ones what is due, and a wall-clock jump such as a laptop's suspend rekeys), and
 * the next tick is set to the manager's `nextRefreshAt()`, at least a second and at most
 * a minute away (the minute bounds how late a clock jump is noticed). While nothing is
 * held, ticks back off from 1 s to a minute.
 */
import type { Logger } from "../../layers/extension/src/log.js";
import type { SvidManager } from "../../layers/extension/src/svid-manager.js";

export interface TimerDriverOptions {
  manager: SvidManager;
  logger: Logger;
  /** Called once, when the first SVIDs are in. */
  onReady?: () => void;
  minDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

export interface TimerDriver {
  /** The first tick's work (resolves whether or not it fetched anything). */
  readonly started: Promise<void>;
  stop(): void;
}

export function driveWithTimers(options: TimerDriverOptions): TimerDriver {
  const min = options.minDelayMs ?? 1_000;
  const max = options.maxDelayMs ?? 60_000;
  const now = options.now ?? Date.now;
  const { manager } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let backoff = min;
  let announced = false;

  const delay = (): number => {
    if (!manager.ready) {
      const wait = backoff;
      backoff = Math.min(backoff * 2, max);
      return wait;
    }
    backoff = min;
    const next = manager.nextRefreshAt() ?? now() + max;
    return Math.min(max, Math.max(min, next - now()));
  };

  const tick = async (): Promise<void> => {
    await manager.refresh();
    if (stopped) return;
    if (manager.ready && !announced) {
      announced = true;
      options.onReady?.();
    }
    timer = setTimeout(() => void tick(), delay());
  };

  return {
    started: tick(),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
