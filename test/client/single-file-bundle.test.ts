/**
 * What a function's bundler adds for `svid-bridge/client` when it writes one file, as
 * CDK's NodejsFunction and SAM do by default (esbuild, no code splitting): every dynamic
 * import lands in that file too. lib/spiffe/bundle.ts once loaded @peculiar/x509 through a
 * dynamic import, which put 364 KiB of ASN.1 code (and reflect-metadata, tsyringe) into
 * every in-process function's bundle; the bridge's parser now lives apart
 * (lib/spiffe/parse-trust-bundle.ts).
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { oneFileBundle } from "../support/one-file-bundle.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

it("regression: a single-file bundle of svid-bridge/client holds no ASN.1 library and stays under 100 KiB", async () => {
  const { bytes, inputs } = await oneFileBundle(join(ROOT, "layers/client/index.ts"), ROOT);
  expect(
    inputs.filter((i) => /node_modules\/(@peculiar\/|asn1js\/|reflect-metadata\/|tsyringe\/)/.test(i)),
  ).toEqual([]);
  expect(inputs.some((i) => i.endsWith("lib/crypto/x509.ts"))).toBe(false);
  expect(bytes).toBeLessThan(100 * 1024);
});
