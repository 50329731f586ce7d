/**
 * What the exchange calls to sign: the active key of the set, bound to its KeyManager.
 * Reads through a KeySetCache in the exchange (one DynamoDB read per few seconds).
 */
import { BridgeError } from "../errors.js";
import { activeKey, type JwtSigningKey, type KeySet } from "../keyset/key-set.js";
import { type KeyManager, type Signer, signerFor } from "../ports/key-manager.js";

export interface KeySetSource {
  get(): Promise<KeySet>;
}

/** The active key's record; `not_ready` (503) when the set has none (rotation never ran). */
export async function getActiveSigningKey(source: KeySetSource): Promise<JwtSigningKey> {
  const key = activeKey(await source.get());
  if (!key) throw new BridgeError("not_ready", "no active JWT signing key: the rotation has not run yet");
  return key;
}

/**
 * A Signer for the active key. Refuses (`key_unavailable`) when the KeyManager's key does
 * not have the published thumbprint: signing with it would mint tokens nobody can verify.
 */
export async function getActiveSigner(source: KeySetSource, keys: KeyManager): Promise<Signer> {
  const record = await getActiveSigningKey(source);
  const signer = await signerFor(keys, record.keyId);
  if (signer.kid !== record.kid || signer.alg !== record.alg)
    throw new BridgeError("key_unavailable", "the key manager's key does not match the published key", {
      details: { kid: record.kid },
    });
  return signer;
}
