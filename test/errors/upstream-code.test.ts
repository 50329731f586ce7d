/**
 * An error that passes on the exchange's refusal (the extension's `exchange_rejected`)
 * carries the exchange's own code in its body as `upstream`, so a function reading the
 * local API sees the code the exchange chose, as it does in process; nothing else does.
 */
import { describe, expect, it } from "vitest";
import { BridgeError } from "../../lib/errors.js";

describe("BridgeError body: upstream", () => {
  it("names the exchange's code for a passed-on refusal", () => {
    const e = new BridgeError("exchange_rejected", "the exchange refused: no_registration", {
      expose: true,
      details: { upstream: "no_registration", upstreamStatus: 403 },
    });
    expect(e.toJSON()).toEqual({
      error: "exchange_rejected",
      message: "the exchange refused: no_registration",
      upstream: "no_registration",
    });
  });

  it("leaves it out when the upstream code is not one of ours, or the error is not exposed", () => {
    const made = new BridgeError("exchange_rejected", "m", {
      expose: true,
      details: { upstream: "made_up" },
    });
    expect(made.toJSON()).toEqual({ error: "exchange_rejected", message: "m" });
    const hidden = new BridgeError("internal_error", "secret", { details: { upstream: "no_registration" } });
    expect(hidden.toJSON()).toEqual({ error: "internal_error", message: "internal error" });
  });

  it("is absent from every other error", () => {
    expect(new BridgeError("no_registration", "none").toJSON()).toEqual({
      error: "no_registration",
      message: "none",
    });
  });
});
