import { describe, expect, it } from "vitest";
import { EXIT, exitCodeFor, UsageError } from "../../lib/cli/exit-codes.js";
import { BridgeError } from "../../lib/errors.js";

describe("CLI exit codes", () => {
  it.each([
    [new UsageError("no table"), EXIT.usage],
    [new BridgeError("registration_invalid", "x"), EXIT.validation],
    [new BridgeError("jwt_expired", "x"), EXIT.validation],
    [new BridgeError("jwt_audience_mismatch", "x"), EXIT.validation],
    [new BridgeError("version_conflict", "x"), EXIT.conflict],
    [new BridgeError("registration_not_found", "x"), EXIT.conflict],
    [new BridgeError("no_registration", "x"), EXIT.aws],
    [new BridgeError("store_unavailable", "x"), EXIT.aws],
    [new Error("socket hang up"), EXIT.aws],
  ])("%s → %i", (error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });
});
