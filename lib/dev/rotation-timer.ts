/**
 * The dev bridge's rotation schedule: `rotate` every `intervalMs`, never two at once,
 * and a `stop()` that waits for a rotation under way. Stopping dev closes DynamoDB right
 * after; a rotation still writing to it would fail and log a spurious "rotation failed".
 */
export interface RotationTimer {
  /** No rotation starts after this; resolves once the one under way (if any) has ended. */
  stop(): Promise<void>;
}

export function startRotationTimer(rotate: () => Promise<unknown>, intervalMs: number): RotationTimer {
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped || running) return; // one at a time: a slow rotation is not stacked on
    running = rotate()
      .catch(() => {}) // the handler has logged it; the next tick tries again
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
