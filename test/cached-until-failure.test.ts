import { describe, expect, it } from "vitest";
import { cachedUntilFailure } from "../lib/cached-until-failure.js";

describe("cachedUntilFailure", () => {
  it("shares one pending or fulfilled promise between callers", async () => {
    let calls = 0;
    const get = cachedUntilFailure(async () => ++calls);
    const [a, b] = await Promise.all([get(), get()]);
    expect([a, b, await get(), calls]).toEqual([1, 1, 1, 1]);
  });

  it("forgets a rejection: its callers see it, the next call tries again", async () => {
    let calls = 0;
    const get = cachedUntilFailure(async () => {
      calls++;
      if (calls === 1) throw new Error("down");
      return "up";
    });
    const first = get();
    const sharing = get();
    await expect(first).rejects.toThrow("down");
    await expect(sharing).rejects.toThrow("down");
    await expect(get()).resolves.toBe("up");
    await expect(get()).resolves.toBe("up");
    expect(calls).toBe(2);
  });
});
