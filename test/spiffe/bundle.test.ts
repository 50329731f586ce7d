import { beforeAll, describe, expect, it } from "vitest";
import { InMemoryKeyManager } from "../../lib/local/in-memory-key-manager.js";
import { DerCertificate, readDerCertificate, TrustBundle } from "../../lib/spiffe/bundle.js";
import { checkIssuerUrl, jwks, openIdConfiguration } from "../../lib/spiffe/oidc.js";
import { parseTrustBundle } from "../../lib/spiffe/parse-trust-bundle.js";
import { TrustDomain } from "../../lib/spiffe/spiffe-id.js";
import { makeTestCa, type TestCa } from "../support/x509-fixtures.js";

const td = TrustDomain.parse("example.org");

describe("SPIFFE bundle", () => {
  let ca: TestCa;
  let bundle: TrustBundle;
  beforeAll(async () => {
    ca = await makeTestCa(td);
    const keys = new InMemoryKeyManager();
    const rsa = await keys.createKey("RS256");
    const ec = await keys.createKey("ES256");
    bundle = new TrustBundle({
      trustDomain: td,
      x509Authorities: [ca.root],
      jwtAuthorities: [
        { kid: rsa.thumbprint, jwk: rsa.jwk, alg: "RS256" },
        { kid: ec.thumbprint, jwk: ec.jwk, alg: "ES256" },
      ],
      sequence: 7,
      refreshHintSeconds: 300,
    });
  });

  it("fault 6's kind: a bundle document that repeats a member is refused (bundle_malformed)", async () => {
    const text = JSON.stringify(await bundle.toDocument());
    const repeated = text.replace('"keys":', '"keys":[],"keys":');
    await expect(parseTrustBundle(td, repeated)).rejects.toMatchObject({ code: "bundle_malformed" });
    await expect(parseTrustBundle(td, text)).resolves.toBeInstanceOf(TrustBundle);
  });

  it("produces the SPIFFE format: keys with use x509-svid (x5c) and jwt-svid (kid)", async () => {
    const doc = await bundle.toDocument();
    expect(doc.spiffe_sequence).toBe(7);
    expect(doc.spiffe_refresh_hint).toBe(300);
    expect(doc.keys.map((k) => k.use)).toEqual(["x509-svid", "jwt-svid", "jwt-svid"]);
    const x = doc.keys[0]!;
    expect(x.kid).toBeUndefined();
    expect(x.x5c).toEqual([Buffer.from(ca.root.rawData).toString("base64")]);
    expect(x.kty).toBe("EC");
    for (const k of doc.keys.slice(1)) {
      expect(typeof k.kid).toBe("string");
      expect(k.d).toBeUndefined();
    }
  });

  it("builds its document once, and hands each caller a copy of its own", async () => {
    const first = await bundle.toDocument();
    first.keys.length = 0;
    first.spiffe_sequence = 99;
    const second = await bundle.toDocument();
    expect(second.keys).toHaveLength(3);
    expect(second.spiffe_sequence).toBe(7);
  });

  it("round-trips through its own strict parser", async () => {
    const parsed = await parseTrustBundle(td, JSON.stringify(await bundle.toDocument()));
    expect(parsed.sequence).toBe(7);
    expect(parsed.refreshHintSeconds).toBe(300);
    expect(parsed.x509Authorities[0]!.serialNumber).toBe(ca.root.serialNumber);
    expect(parsed.jwtAuthorities.map((a) => a.kid)).toEqual(bundle.jwtAuthorities.map((a) => a.kid));
  });

  it("reads the same document with node:crypto certificates (the extension's), byte for byte", async () => {
    const doc = await bundle.toDocument();
    const parsed = await TrustBundle.parseWith(td, JSON.stringify(doc), readDerCertificate);
    expect(parsed.x509Authorities[0]).toBeInstanceOf(DerCertificate);
    expect(Buffer.from(parsed.x509Authorities[0]!.rawData)).toEqual(Buffer.from(ca.root.rawData));
    expect(await parsed.toDocument()).toEqual(doc);
    expect(parsed.toX509Pem()).toBe(bundle.toX509Pem());
    // toX509Pem is still @peculiar/x509's PEM, LF line ends, 64 columns, a final newline.
    expect(bundle.toX509Pem()).toBe(`${ca.root.toString("pem")}\n`);
  });

  it.each([
    ["a truncated certificate", (der: Buffer) => der.subarray(0, der.length - 1)],
    ["bytes that are no certificate", () => Buffer.from("not a certificate")],
  ])("refuses an x5c with %s, with either certificate reader (bundle_malformed)", async (_n, mangle) => {
    const input = await withX5c(mangle(Buffer.from(ca.root.rawData)));
    await expect(parseTrustBundle(td, input)).rejects.toMatchObject({ code: "bundle_malformed" });
    await expect(TrustBundle.parseWith(td, input, readDerCertificate)).rejects.toMatchObject({
      code: "bundle_malformed",
    });
  });

  it("refuses trailing bytes after an x5c certificate with node:crypto certificates (bundle_malformed)", async () => {
    const input = await withX5c(Buffer.concat([Buffer.from(ca.root.rawData), Buffer.from([0])]));
    await expect(TrustBundle.parseWith(td, input, readDerCertificate)).rejects.toMatchObject({
      code: "bundle_malformed",
    });
  });

  /** The bundle's document with its X.509 authority's x5c replaced by `der`. */
  async function withX5c(der: Buffer) {
    const doc = await bundle.toDocument();
    return { keys: [{ ...doc.keys[0], x5c: [der.toString("base64")] }] };
  }

  it("accepts an empty key list (every SVID of the domain revoked)", async () => {
    const parsed = await parseTrustBundle(td, { keys: [] });
    expect(parsed.jwtAuthorities).toHaveLength(0);
  });

  it.each([
    ["no keys", {}],
    ["keys not an array", { keys: {} }],
    ["a missing use", { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y" }] }],
    ["jwt-svid without kid", "nokid"],
    ["x509-svid with two certificates", "twocerts"],
    ["x5c that does not match the key", "mismatch"],
    ["an unknown kty", { keys: [{ kty: "OKP", use: "jwt-svid", kid: "a", crv: "Ed25519", x: "AA" }] }],
    ["a fractional sequence", { spiffe_sequence: 1.5, keys: [] }],
    ["not JSON", "{"],
  ])("refuses a bundle with %s (bundle_malformed)", async (_name, variant) => {
    const doc = await bundle.toDocument();
    let input: unknown = variant;
    if (variant === "nokid") input = { keys: [{ ...doc.keys[1], kid: undefined }] };
    if (variant === "twocerts")
      input = { keys: [{ ...doc.keys[0], x5c: [doc.keys[0]!.x5c![0], doc.keys[0]!.x5c![0]] }] };
    if (variant === "mismatch")
      input = { keys: [{ ...doc.keys[2], use: "x509-svid", x5c: doc.keys[0]!.x5c }] };
    await expect(parseTrustBundle(td, input)).rejects.toMatchObject({ code: "bundle_malformed" });
  });

  it("refuses two JWT authorities with one kid", () => {
    const a = bundle.jwtAuthorities[0]!;
    expect(() => new TrustBundle({ trustDomain: td, jwtAuthorities: [a, a] })).toThrow(/share kid/);
  });
});

describe("OIDC documents", () => {
  const keys = new InMemoryKeyManager();
  it("serves discovery with issuer byte-equal to the configured URL, and a JWKS without SPIFFE fields", async () => {
    const k = await keys.createKey("RS256");
    const e = await keys.createKey("ES256");
    const authorities = [
      { kid: k.thumbprint, jwk: k.jwk, alg: "RS256" as const },
      { kid: e.thumbprint, jwk: e.jwk, alg: "ES256" as const },
    ];
    const config = openIdConfiguration("https://oidc.example.org/td", authorities);
    expect(config).toEqual({
      issuer: "https://oidc.example.org/td",
      jwks_uri: "https://oidc.example.org/td/.well-known/jwks.json",
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256", "RS256"],
      claims_supported: ["sub", "aud", "exp", "iat", "iss"],
    });
    const set = jwks(authorities);
    expect(set.keys.map((x) => [x.kid, x.alg, x.use])).toEqual([
      [k.thumbprint, "RS256", "sig"],
      [e.thumbprint, "ES256", "sig"],
    ]);
    expect(JSON.stringify(set)).not.toMatch(/spiffe|jwt-svid/);
  });

  it.each([
    ["http://oidc.example.org", /https/],
    ["https://oidc.example.org/", /must not end/],
    ["https://oidc.example.org:8443", /port/],
    ["https://oidc.example.org?x=1", /query/],
    ["https://u@oidc.example.org", /userinfo/],
    ["not a url", /not a URL/],
  ])("refuses issuer %s", (issuer, message) => {
    expect(() => checkIssuerUrl(issuer)).toThrow(message);
  });

  it("allows http on loopback only when asked (svid-bridge dev)", () => {
    expect(() => checkIssuerUrl("http://127.0.0.1:8787")).toThrow();
    expect(checkIssuerUrl("http://127.0.0.1:8787", { allowHttpLoopback: true }).port).toBe("8787");
    expect(() => checkIssuerUrl("http://10.0.0.1:8787", { allowHttpLoopback: true })).toThrow();
  });
});
