/**
 * CaRenewer: the seam through which the rotation renews the intermediate CA
 * (intermediate mode). The rotation decides WHEN (no record yet, or less than half of
 * the current intermediate's life left, so the exchange always holds a CA with at least
 * half its life ahead and leaves, capped at their issuer's notAfter, stay short); the
 * renewer decides HOW: a local root in dev (LocalCaRenewer), ACM PCA signing a CSR made
 * with a new KMS key in AWS (PcaCaRenewer, built with the PCA adapter).
 */
import type { X509AuthorityRecord } from "../keyset/key-set.js";

export interface CaRenewer {
  /**
   * Makes a new intermediate (new key, new certificate) and returns its record. `current`
   * is the record in force, if any. Must not change anything the store reads: the
   * rotation writes the record, and on a lost race deletes the returned key.
   */
  renew(current: X509AuthorityRecord | undefined): Promise<X509AuthorityRecord>;
}

/** True when the intermediate is missing or has less than half its life left. */
export function caNeedsRenewal(record: X509AuthorityRecord | undefined, nowSeconds: number): boolean {
  if (!record) return true;
  const halfLife = record.notBefore + (record.notAfter - record.notBefore) / 2;
  return nowSeconds >= halfLife;
}
