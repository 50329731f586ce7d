import { describe, expect, it } from "vitest";
import { type ConformanceTool, probeTool, requireTool } from "../support/conformance-tools.js";

const MISSING: ConformanceTool = {
  name: "a tool that is not installed",
  command: "/nonexistent/tool",
  args: [],
};
const PRESENT: ConformanceTool = { name: "node", command: process.execPath, args: ["--version"] };

describe("conformance tools: a missing verifier skips locally and fails CI", () => {
  it("a present tool is required without fuss, CI or not", () => {
    expect(requireTool(PRESENT, { CI: "true" })).toBe(true);
    expect(requireTool(PRESENT, {})).toBe(true);
  });

  it("a missing tool skips outside CI", () => {
    expect(probeTool(MISSING)).toBe(false);
    expect(requireTool(MISSING, {})).toBe(false);
  });

  it("a missing tool under CI=true fails the run, naming the tool", () => {
    expect(() => requireTool(MISSING, { CI: "true" })).toThrow(
      /conformance tool missing under CI: a tool that is not installed/,
    );
    expect(() => requireTool(MISSING, { CI: "1" })).toThrow(/missing under CI/);
  });
});
