/**
 * Regression (issue 15): stopping `svid-bridge dev` logged a spurious "rotation failed",
 * a scheduled rotation still writing to DynamoDB as it was closed. stop() now waits for
 * the rotation under way, and none starts after it.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { startRotationTimer } from "../../lib/dev/rotation-timer.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("dev rotation timer", () => {
  it("stop() waits for the rotation under way, and none starts after it", async () => {
    vi.useFakeTimers();
    let finish!: () => void;
    const events: string[] = [];
    const rotate = vi.fn(() => {
      events.push("start");
      return new Promise<void>((done) => {
        finish = () => {
          events.push("end");
          done();
        };
      });
    });
    const timer = startRotationTimer(rotate, 1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(rotate).toHaveBeenCalledTimes(1);
    const stopped = timer.stop().then(() => events.push("stopped"));
    await vi.advanceTimersByTimeAsync(5000);
    expect(events).toEqual(["start"]); // not stopped while the rotation runs; no new one
    finish();
    await stopped;
    expect(events).toEqual(["start", "end", "stopped"]);
    expect(rotate).toHaveBeenCalledTimes(1);
  });

  it("does not stack a rotation on a slow one, and goes on after a failure", async () => {
    vi.useFakeTimers();
    let calls = 0;
    let release!: () => void;
    const rotate = () => {
      calls++;
      if (calls === 1) return new Promise<void>((done) => (release = done));
      return Promise.reject(new Error("throttled"));
    };
    const timer = startRotationTimer(rotate, 1000);
    await vi.advanceTimersByTimeAsync(3500);
    expect(calls).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toBe(3); // the rejections were swallowed (the handler logs them)
    await timer.stop();
  });
});
