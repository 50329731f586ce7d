/**
 * `token`, `list`, `--help` and the rest start without the dependencies only dev, demo
 * and invoke use (dynalite, esbuild): those are imported inside those commands' actions.
 * Checked on the built CLI (dist/, what a user runs) in a fresh process: both are
 * CommonJS, so whatever loaded them is in require.cache.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function loadedDevDeps(args: string[]): string[] {
  const script = `
    import { createRequire } from "node:module";
    import { PassThrough } from "node:stream";
    const { main } = await import("./dist/lib/cli/main.js");
    const sink = new PassThrough().resume();
    await main(["node", "svid-bridge", ...${JSON.stringify(args)}], {
      stdout: sink, stderr: sink, env: {}, readInput: async () => "{}",
    });
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const names = cache.map((k) => /node_modules\\/(dynalite|esbuild)\\//.exec(k)?.[1]).filter(Boolean);
    process.stdout.write(JSON.stringify([...new Set(names)]));
  `;
  return JSON.parse(
    execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8" }),
  );
}

describe("dev-only dependencies load lazily", () => {
  it.each([[["--help"]], [["token", "--audience", "a"]], [["list"]], [["verify", "t", "--audience", "a"]]])(
    "%j loads neither dynalite nor esbuild",
    (args) => {
      expect(loadedDevDeps(args)).toEqual([]);
    },
  );

  it("invoke does load dynalite (the check sees it when it is there)", () => {
    expect(loadedDevDeps(["invoke", "discovery", "--event", "-"])).toContain("dynalite");
  });
});
