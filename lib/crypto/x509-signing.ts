/**
 * Lets @peculiar/x509 sign a certificate or CSR through our Signer port (whose key may
 * be in KMS): the generator asks a WebCrypto-shaped object to sign the TBS bytes, so we
 * hand it one whose only job is to call the port. The port already returns ECDSA
 * signatures raw (R||S), which is the WebCrypto form the library expects.
 */
import { webcrypto } from "node:crypto";

type CryptoKey = webcrypto.CryptoKey;
type Algorithm = webcrypto.Algorithm;
type Crypto = webcrypto.Crypto;
type BufferSource = ArrayBuffer | ArrayBufferView;

import type { Signer } from "../ports/key-manager.js";
import { algorithmProfile } from "./algorithms.js";

export interface PortSigningParams {
  signingKey: CryptoKey;
  signingAlgorithm: Algorithm;
  crypto: Crypto;
}

export function portSigning(signer: Signer): PortSigningParams {
  const profile = algorithmProfile(signer.alg);
  const algorithm: Algorithm & Record<string, unknown> =
    profile.kty === "EC"
      ? { name: "ECDSA", hash: profile.webCrypto.hash, namedCurve: profile.crv }
      : { name: "RSASSA-PKCS1-v1_5", hash: profile.webCrypto.hash };
  const signingKey = {
    algorithm,
    type: "private",
    extractable: false,
    usages: ["sign"],
  } as unknown as CryptoKey;
  const crypto = {
    getRandomValues: <T extends ArrayBufferView | null>(array: T) =>
      webcrypto.getRandomValues(array as never) as T,
    subtle: {
      sign: async (_alg: unknown, _key: unknown, data: BufferSource) => {
        const bytes =
          data instanceof ArrayBuffer
            ? new Uint8Array(data)
            : new Uint8Array(
                (data as ArrayBufferView).buffer,
                (data as ArrayBufferView).byteOffset,
                (data as ArrayBufferView).byteLength,
              );
        const sig = await signer.sign(bytes);
        return sig.buffer.slice(sig.byteOffset, sig.byteOffset + sig.byteLength);
      },
    },
  } as unknown as Crypto;
  return { signingKey, signingAlgorithm: algorithm, crypto };
}
