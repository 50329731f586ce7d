/**
 * The exchange's view of the key set's X.509 side: an IntermediateCertificateAuthority
 * built from the stored record, signing through the KeyManager.
 */
import { IntermediateCertificateAuthority } from "../ca/intermediate-certificate-authority.js";
import type { Clock } from "../clock.js";
import { BridgeError } from "../errors.js";
import { type KeyManager, signerFor } from "../ports/key-manager.js";
import { parseCertificatesPem } from "../spiffe/x509-svid.js";
import type { KeySet, X509AuthorityRecord } from "./key-set.js";

export async function intermediateFromRecord(
  record: X509AuthorityRecord,
  keys: KeyManager,
  clock: Clock,
): Promise<IntermediateCertificateAuthority> {
  const chain = [...parseCertificatesPem(record.certificatePem), ...parseCertificatesPem(record.chainPem)];
  const roots = parseCertificatesPem(record.trustAnchorsPem);
  if (chain.length === 0 || roots.length === 0)
    throw new BridgeError("ca_unavailable", "the key set's CA record has no certificate or no trust anchor");
  return new IntermediateCertificateAuthority({
    chain,
    roots,
    signer: await signerFor(keys, record.keyId),
    clock,
  });
}

/** The trust anchors the bundle publishes (none when the bridge has no X.509 side). */
export function trustAnchorsOf(set: KeySet) {
  return set.x509 ? parseCertificatesPem(set.x509.trustAnchorsPem) : [];
}
