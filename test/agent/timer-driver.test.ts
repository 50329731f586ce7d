import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../layers/extension/src/log.js";
import type { SvidManager } from "../../layers/extension/src/svid-manager.js";
import { driveWithTimers } from "../../lib/agent/timer-driver.js";

/** A manager stand-in that records wake-ups: the driver's job is when, not what. */
function fakeManager(readyAfter: number, nextIn: number) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    manager: {
      refresh: async () => void calls++,
      get ready() {
        return calls >= readyAfter;
      },
      nextRefreshAt: () => Date.now() + nextIn,
    } as unknown as SvidManager,
  };
}

describe("the agent's timer driver", () => {
  afterEach(() => vi.useRealTimers());

  it("wakes the manager at its next refresh time, bounded to [1 s, 60 s], and says ready once", async () => {
    vi.useFakeTimers();
    const m = fakeManager(1, 30_000);
    let ready = 0;
    const d = driveWithTimers({ manager: m.manager, logger: silentLogger, onReady: () => void ready++ });
    await d.started;
    expect([m.calls, ready]).toEqual([1, 1]);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(m.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect([m.calls, ready]).toEqual([2, 1]);
    d.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(m.calls).toBe(2);
  });

  it("backs off from 1 s while nothing is held, and caps a far refresh at a minute", async () => {
    vi.useFakeTimers();
    const m = fakeManager(4, 3_600_000);
    const d = driveWithTimers({ manager: m.manager, logger: silentLogger });
    await d.started;
    await vi.advanceTimersByTimeAsync(1_000); // 1 s
    await vi.advanceTimersByTimeAsync(2_000); // 2 s
    expect(m.calls).toBe(3);
    await vi.advanceTimersByTimeAsync(4_000); // 4 s: now ready
    expect(m.calls).toBe(4);
    await vi.advanceTimersByTimeAsync(60_000); // an hour away, woken after a minute
    expect(m.calls).toBe(5);
    d.stop();
  });
});
