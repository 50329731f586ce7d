/**
 * The layer zip is reproducible (issue 15): the same sources give the same bytes, so a
 * deploy publishes a new layer version only when the extension changed. Two builds, more
 * than DOS time's 2 s apart and in different time zones (zip stores local time), must be
 * byte for byte equal; the entries are the layer's files, sorted, with their modes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildLayer, LAYER_FILES } from "../../scripts/build-layer.js";

const dir = mkdtempSync(join(tmpdir(), "svid-bridge-layer-zip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function buildIn(name: string, tz: string): Promise<Buffer> {
  const saved = process.env.TZ;
  process.env.TZ = tz;
  try {
    return readFileSync((await buildLayer(join(dir, name))).zip);
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

describe("layer zip", () => {
  it("two builds of the same sources are byte for byte equal", async () => {
    const first = await buildIn("a", "UTC");
    await new Promise((done) => setTimeout(done, 2_100)); // past DOS time's 2 s resolution
    const second = await buildIn("b", "Asia/Kolkata");
    expect(second.equals(first)).toBe(true);
  }, 60_000);

  it("holds the layer's files, sorted, with their modes and the fixed timestamp", () => {
    // zipinfo: "-rwxr-xr-x  3.0 unx  809 tx defN 00-Jan-01 00:00 extensions/svid-bridge"
    const listing = execFileSync("zipinfo", [join(dir, "a", "svid-bridge-layer.zip")], {
      encoding: "utf8",
      env: { ...process.env, TZ: "UTC" },
    })
      .split("\n")
      .filter((line) => /^[-d]r/.test(line))
      .map((line) => line.split(/\s+/));
    expect(listing.map((f) => f.at(-1))).toEqual(LAYER_FILES.map((f) => f.path));
    expect(listing.map((f) => f[0])).toEqual(
      LAYER_FILES.map((f) => (f.mode === 0o755 ? "-rwxr-xr-x" : "-rw-r--r--")),
    );
    for (const f of listing) expect(f.slice(-3, -1)).toEqual(["00-Jan-01", "00:00"]);
  });

  it("holds no ASN.1 library: @peculiar/x509 and reflect-metadata stay out (issue 18)", () => {
    for (const file of ["extension.cjs", "workload-grpc.cjs"]) {
      const code = readFileSync(join(dir, "a", "layer", "svid-bridge", file), "utf8");
      // reflect-metadata's API, and @peculiar/pvtsutils' BufferSource check: names minifying keeps.
      expect(code).not.toContain("defineMetadata");
      expect(code).not.toContain("isBufferSource");
    }
  });
});
