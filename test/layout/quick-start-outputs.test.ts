/**
 * What the README's quick start writes into the working tree (the env file with dev
 * credentials, the X.509-SVID with its private key) lands in git-ignored places, so a
 * newcomer following it cannot commit a key (issue 15: `x509 --out svid` did).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function quickStartPaths(): string[] {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const from = readme.indexOf("## Quick start");
  const section = readme.slice(from, readme.indexOf("\n### ", from));
  // The commands as the reader types them: the sh blocks only.
  const commands = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).join("\n");
  const paths = [...commands.matchAll(/--(?:env-)?out\s+(\S+)/g)].map((m) => m[1]!);
  // dev's default env file, which `source` reads
  return [...new Set([...paths, ...[...commands.matchAll(/source\s+(\S+)/g)].map((m) => m[1]!)])];
}

describe("layout: the quick start writes only git-ignored paths", () => {
  it("finds the paths it writes", () => {
    expect(quickStartPaths()).toEqual(expect.arrayContaining([".svid-bridge/env", ".svid-bridge/svid"]));
  });

  it.each(quickStartPaths())("%s is git-ignored", (path) => {
    // check-ignore exits 0 when ignored, 1 when not: execFileSync throws on 1.
    expect(() =>
      execFileSync("git", ["check-ignore", "-q", "--no-index", `${path}/svid_key.pem`], { cwd: ROOT }),
    ).not.toThrow();
  });
});
