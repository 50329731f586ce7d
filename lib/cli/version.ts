/**
 * The package's version, read from its package.json: two levels up from lib/cli in the
 * sources, three from dist/lib/cli once built, so the first package.json upward is it.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function packageVersion(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from, parent = dirname(dir); ; dir = parent, parent = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: unknown };
      if (typeof pkg.version === "string") return pkg.version;
    } catch {
      // none here (or not readable): look further up
    }
    if (parent === dir) return "unknown";
  }
}
