/**
 * The dev stack end to end, over HTTP and the CLI only (no import from lib/): a caller
 * with no registration is refused, registered through the CLI, then gets a JWT-SVID that
 * a relying party verifies from discovery alone (jose, remote JWKS), an X.509-SVID that
 * `openssl verify` accepts, and after `rotate --now` the old token still verifies while
 * the JWKS publishes both keys.
 */
import { execFileSync } from "node:child_process";
import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { lstatSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPENSSL, PYJWT, requireTool } from "../support/conformance-tools.js";
import { type RunningDev, runSvidBridge, startDev } from "./dev-process.js";

const dir = mkdtempSync(join(tmpdir(), "svid-bridge-e2e-"));
let dev: RunningDev;
/** Debian's python3 with PyJWT: a relying party written by someone else, in another language. */
const hasPyJwt = requireTool(PYJWT);
// OIDC discovery as a Python service does it: openid-configuration, then PyJWKClient on jwks_uri.
const PY_VERIFY = `
import json, sys, urllib.request, jwt
issuer, audience, token = sys.argv[1], sys.argv[2], sys.stdin.read().strip()
config = json.load(urllib.request.urlopen(issuer + "/.well-known/openid-configuration"))
key = jwt.PyJWKClient(config["jwks_uri"]).get_signing_key_from_jwt(token)
claims = jwt.decode(token, key.key, algorithms=["RS256", "ES256", "ES384"], audience=audience, issuer=issuer,
                    options={"require": ["sub", "aud", "exp", "iat"]})
print(json.dumps(claims))
`;
const hasOpenssl = requireTool(OPENSSL);

const cli = (args: string[]) => runSvidBridge(args, dev.env);

async function discovery() {
  const config = (await (
    await fetch(`${dev.env.SVID_BRIDGE_ISSUER}/.well-known/openid-configuration`)
  ).json()) as { issuer: string; jwks_uri: string };
  return config;
}

async function verifyFromDiscovery(token: string, audience: string) {
  const config = await discovery();
  expect(config.issuer).toBe(dev.env.SVID_BRIDGE_ISSUER);
  const keys = createRemoteJWKSet(new URL(config.jwks_uri));
  return jwtVerify(token, keys, { issuer: config.issuer, audience, algorithms: ["RS256", "ES256", "ES384"] });
}

beforeAll(async () => {
  dev = await startDev(["--port", "0", "--no-seed", "--env-out", join(dir, "env")]);
}, 90_000);

afterAll(async () => {
  await dev?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("svid-bridge dev, end to end over HTTP", () => {
  let token = "";

  it("refuses the dev principal while no registration matches it", async () => {
    const refused = await cli(["token", "--audience", "e2e"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/^error no_registration: /m);
  }, 30_000);

  it("refuses a proof that names its own STS URL (the caller never chooses where STS is)", async () => {
    const response = await fetch(`${dev.env.SVID_BRIDGE_URL}/v1/svid/jwt`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ audience: ["e2e"], proof: { url: "https://evil.example" } }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe("proof_invalid");
  });

  it("registers through the CLI, then issues a JWT-SVID that verifies through discovery", async () => {
    const registered = await cli([
      "register",
      "--id",
      "e2e",
      "--spiffe-id",
      "spiffe://example.org/e2e/{session}",
      "--account",
      "111122223333",
      "--role",
      "svid-bridge-dev",
    ]);
    expect(registered.stderr).toBe("");
    expect(registered.code).toBe(0);
    const issued = await cli(["token", "--audience", "e2e"]);
    expect(issued.code).toBe(0);
    token = issued.stdout.trim();
    expect(token.split(".")).toHaveLength(3);
    const { payload } = await verifyFromDiscovery(token, "e2e");
    expect(payload.sub).toBe("spiffe://example.org/e2e/dev");
    await expect(verifyFromDiscovery(token, "someone-else")).rejects.toMatchObject({
      code: "ERR_JWT_CLAIM_VALIDATION_FAILED",
    });
  }, 60_000);

  it.skipIf(!hasPyJwt)(
    "PyJWT, discovering the issuer on its own, accepts the token",
    () => {
      expect(token).not.toBe("");
      const py = (audience: string) =>
        execFileSync("/usr/bin/python3", ["-c", PY_VERIFY, dev.env.SVID_BRIDGE_ISSUER!, audience], {
          input: token,
          encoding: "utf8",
          stdio: ["pipe", "pipe", "pipe"],
        });
      const claims = JSON.parse(py("e2e")) as { sub: string; iss: string };
      expect(claims).toMatchObject({ sub: "spiffe://example.org/e2e/dev", iss: dev.env.SVID_BRIDGE_ISSUER });
      expect(() => py("someone-else")).toThrow(/InvalidAudienceError/);
    },
    30_000,
  );

  it.skipIf(!hasOpenssl)(
    "issues an X.509-SVID that openssl verifies against the bundle",
    async () => {
      const out = join(dir, "svid");
      const issued = await cli(["x509", "--out", out]);
      expect(issued.code).toBe(0);
      expect(issued.stdout).toContain("spiffe://example.org/e2e/dev");
      // -untrusted svid.pem: the chain's intermediates come from the same file, as spiffe-helper writes it.
      const verified = execFileSync(
        "openssl",
        [
          "verify",
          "-x509_strict",
          "-CAfile",
          join(out, "bundle.pem"),
          "-untrusted",
          join(out, "svid.pem"),
          join(out, "svid.pem"),
        ],
        { encoding: "utf8" },
      );
      expect(verified).toContain("svid.pem: OK");
      // Fault 4's kind in the CLI: a second run swaps in a whole generation; the key and the
      // certificate under the stable names always belong together.
      expect((await cli(["x509", "--out", out])).code).toBe(0);
      const leaf = new X509Certificate(readFileSync(join(out, "svid.pem"), "utf8"));
      const key = createPublicKey(createPrivateKey(readFileSync(join(out, "svid_key.pem"), "utf8")));
      expect(leaf.publicKey.equals(key)).toBe(true);
      expect(lstatSync(join(out, "svid.pem")).isSymbolicLink()).toBe(true);
    },
    30_000,
  );

  it("rotates: the JWKS publishes the prepared key and a token signed before still verifies", async () => {
    expect(token).not.toBe("");
    const jwksBefore = (await (await fetch((await discovery()).jwks_uri)).json()) as {
      keys: { kid: string }[];
    };
    expect(jwksBefore.keys).toHaveLength(1);
    const rotated = await cli(["rotate", "--now"]);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/^created /m);
    const jwksAfter = (await (await fetch((await discovery()).jwks_uri)).json()) as {
      keys: { kid: string }[];
    };
    expect(jwksAfter.keys).toHaveLength(2);
    expect(jwksAfter.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(token).kid);
    const { payload } = await verifyFromDiscovery(token, "e2e");
    expect(payload.sub).toBe("spiffe://example.org/e2e/dev");
  }, 30_000);
});
