/**
 * What the Workload API sends, built from what the SVID manager holds (SPIFFE Workload
 * API §5-§7, the field names of workload.proto as @grpc/proto-loader keeps them): DER
 * certificates concatenated leaf first, the PKCS#8 DER key, DER X.509 roots, JWKS JSON
 * of the JWT authorities only. Bundle maps are keyed by the trust domain's SPIFFE ID
 * (`spiffe://td`), as SPIRE keys them. Pure translation: no I/O, no waiting.
 */
import type { TrustBundle, X509Authority } from "../../../../lib/spiffe/bundle.js";
import type { JwtSvidView, X509SvidView } from "../svid-manager.js";

export interface X509SvidMessage {
  spiffe_id: string;
  x509_svid: Buffer;
  x509_svid_key: Buffer;
  bundle: Buffer;
  hint: string;
}

export interface X509SvidResponse {
  svids: X509SvidMessage[];
  crl: Buffer[];
  federated_bundles: Record<string, Buffer>;
}

export interface BundlesResponse {
  crl?: Buffer[];
  bundles: Record<string, Buffer>;
}

/** The `google.protobuf.Value` shape proto-loader encodes (oneof `kind`). */
export type StructValue =
  | { nullValue: "NULL_VALUE" }
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { structValue: ProtoStruct }
  | { listValue: { values: StructValue[] } };

export interface ProtoStruct {
  fields: Record<string, StructValue>;
}

/** Every PEM block of `label` in `pem`, decoded and concatenated (DER, in order). */
export function pemToDer(pem: string, label: string): Buffer {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const blocks: Buffer[] = [];
  for (let at = pem.indexOf(begin); at >= 0; at = pem.indexOf(begin, at)) {
    const stop = pem.indexOf(end, at);
    if (stop < 0) break;
    // Node's base64 decoder skips the line breaks.
    blocks.push(Buffer.from(pem.slice(at + begin.length, stop), "base64"));
    at = stop + end.length;
  }
  return Buffer.concat(blocks);
}

export function x509SvidResponse(svid: X509SvidView): X509SvidResponse {
  return {
    svids: [
      {
        spiffe_id: svid.spiffeId,
        x509_svid: pemToDer(svid.certificateChainPem, "CERTIFICATE"),
        x509_svid_key: pemToDer(svid.privateKeyPem, "PRIVATE KEY"),
        bundle: pemToDer(svid.bundlePem, "CERTIFICATE"),
        hint: "",
      },
    ],
    crl: [],
    federated_bundles: {},
  };
}

export function trustDomainKey(bundle: TrustBundle<X509Authority>): string {
  return `spiffe://${bundle.trustDomain.name}`;
}

export function x509BundlesResponse(bundle: TrustBundle<X509Authority>): BundlesResponse {
  const der = Buffer.concat(bundle.x509Authorities.map((c) => Buffer.from(c.rawData)));
  return { crl: [], bundles: { [trustDomainKey(bundle)]: der } };
}

export function jwtBundlesResponse(bundle: TrustBundle<X509Authority>): BundlesResponse {
  const keys = bundle.jwtAuthorities.map((a) => ({ ...a.jwk, use: "jwt-svid", kid: a.kid }));
  return { bundles: { [trustDomainKey(bundle)]: Buffer.from(JSON.stringify({ keys })) } };
}

export interface JwtSvidResponse {
  readonly svids: readonly { readonly spiffe_id: string; readonly svid: string; readonly hint: string }[];
}

const jwtResponses = new WeakMap<JwtSvidView, JwtSvidResponse>();

/**
 * The FetchJWTSVID answer for one held JWT-SVID: the same frozen object for the same view.
 * The manager makes a new view for every token it receives, so an answer lives exactly
 * as long as its SVID and the transport may keep its encoding (grpc-server.ts encodeOnce).
 */
export function jwtSvidResponse(svid: JwtSvidView): JwtSvidResponse {
  let response = jwtResponses.get(svid);
  if (!response) {
    const entry = Object.freeze({ spiffe_id: svid.spiffeId, svid: svid.token, hint: "" });
    response = Object.freeze({ svids: Object.freeze([entry]) });
    jwtResponses.set(svid, response);
  }
  return response;
}

/** A JSON value as google.protobuf.Value (JWT claims are JSON, so nothing else occurs). */
export function toValue(value: unknown): StructValue {
  if (value === null || value === undefined) return { nullValue: "NULL_VALUE" };
  if (typeof value === "number") return { numberValue: value };
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } };
  if (typeof value === "object") return { structValue: toStruct(value as Record<string, unknown>) };
  return { stringValue: String(value) };
}

export function toStruct(object: Record<string, unknown>): ProtoStruct {
  const fields: Record<string, StructValue> = {};
  for (const [k, v] of Object.entries(object)) fields[k] = toValue(v);
  return { fields };
}
