/**
 * vitest globalSetup: the tests that run `svid-bridge` as a process run bin/svid-bridge.js,
 * which runs dist/ (what a user installs). Rebuild it from the sources first (JavaScript
 * only, well under a second), so no test runs a stale build.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL("../scripts/build.mjs", import.meta.url)), "--js-only", "--quiet"],
    {
      stdio: "inherit",
    },
  );
}
