/**
 * Builds the exchange from its parts. handler.ts passes the AWS adapters; `svid-bridge
 * dev` and the integration tests pass local ones (dynalite, LocalSts, local keys). One
 * composition, so what is tested locally is what runs in Lambda.
 */
import type { Clock } from "../../lib/clock.js";
import { type ExchangeMetrics, noMetrics, timed } from "../../lib/exchange/exchange-metrics.js";
import { DEFAULT_LIMITS, ExchangeService, type IssuanceEvent } from "../../lib/exchange/exchange-service.js";
import { keySetBundle, keySetCertificateAuthority } from "../../lib/exchange/key-set-sources.js";
import { registrationResolver } from "../../lib/exchange/registration-resolver.js";
import type { JwtSigningKey } from "../../lib/keyset/key-set.js";
import { KeySetCache } from "../../lib/keyset/key-set-cache.js";
import type { KeySetStore } from "../../lib/keyset/key-set-store.js";
import type { CallerVerifier } from "../../lib/ports/caller-verifier.js";
import type { CertificateAuthority } from "../../lib/ports/certificate-authority.js";
import type { KeyManager, Signer } from "../../lib/ports/key-manager.js";
import type { RegistrationStore } from "../../lib/ports/registration-store.js";
import { batchBinding, jwtBinding, x509Binding } from "../../lib/proof/binding.js";
import { getActiveSigner, getActiveSigningKey } from "../../lib/rotation/active-key.js";
import type { TrustBundle } from "../../lib/spiffe/bundle.js";
import type { TrustDomain } from "../../lib/spiffe/spiffe-id.js";

export interface ExchangeParts {
  trustDomain: TrustDomain;
  issuer: string;
  verifier: CallerVerifier;
  registrations: Pick<RegistrationStore, "findByAccountAndRole">;
  keySetStore: KeySetStore;
  keys: KeyManager;
  /** Direct mode passes its CA; intermediate mode (default) uses the key set's intermediate. */
  ca?: CertificateAuthority;
  clock: Clock;
  maxJwtTtlSeconds?: number;
  maxX509TtlSeconds?: number;
  /** Seconds a sandbox caches the key set; must not exceed the rotation's signing-key cache. */
  keySetCacheSeconds?: number;
  metrics?: () => ExchangeMetrics;
  onIssued?: (event: IssuanceEvent) => void;
}

export interface ComposedExchange {
  service: ExchangeService;
  bundle: () => Promise<TrustBundle>;
}

/**
 * A caller asks for the same audiences at every refresh: their binding (canonical JSON and
 * a SHA-256) is kept, by value, for the few hundred audience sets a sandbox sees.
 */
function remembered(
  binding: (audience: readonly string[], spiffeId?: string) => string,
): (audience: readonly string[], spiffeId?: string) => string {
  const known = new Map<string, string>();
  return (audience, spiffeId) => {
    // Audiences are printable ASCII without spaces (lib/exchange/requests.ts): "\n" cannot occur in one.
    const key = `${spiffeId ?? ""}\n${audience.join("\n")}`;
    let value = known.get(key);
    if (value === undefined) {
      value = binding(audience, spiffeId);
      if (known.size >= 256) known.clear();
      known.set(key, value);
    }
    return value;
  };
}

/** The active key's Signer, made again only when the key set names another active key. */
function activeSigner(cache: KeySetCache, keys: KeyManager, metrics: () => ExchangeMetrics) {
  let last: { record: JwtSigningKey; signer: Promise<Signer> } | undefined;
  return async (): Promise<Signer> => {
    const record = await getActiveSigningKey(cache);
    if (last?.record !== record) {
      const signer = getActiveSigner(cache, keys).then((s) => ({
        ...s,
        sign: timed(metrics, "kms", (data: Uint8Array) => s.sign(data)),
      }));
      last = { record, signer };
      // A failed build must not stick: the next request tries again.
      signer.catch(() => {
        if (last?.signer === signer) last = undefined;
      });
    }
    return last.signer;
  };
}

export function composeExchange(parts: ExchangeParts): ComposedExchange {
  const metrics = parts.metrics ?? (() => noMetrics);
  const cache = new KeySetCache({
    store: parts.keySetStore,
    clock: parts.clock,
    ttlSeconds: parts.keySetCacheSeconds ?? 60,
  });
  const ca = parts.ca ?? keySetCertificateAuthority(cache, parts.keys, parts.clock);
  const bundle = keySetBundle(cache, parts.trustDomain, ca);
  const verifier: CallerVerifier = {
    verify: timed(metrics, "sts", (r) => parts.verifier.verify(r)),
    ...(parts.verifier.checkLocally && { checkLocally: (r) => parts.verifier.checkLocally?.(r) }),
  };
  const resolve = registrationResolver(parts.registrations, parts.trustDomain);
  const maxJwt = parts.maxJwtTtlSeconds ?? DEFAULT_LIMITS.maxJwtTtlSeconds;
  const maxX509 = parts.maxX509TtlSeconds ?? DEFAULT_LIMITS.maxX509TtlSeconds;
  const service = new ExchangeService({
    verifier,
    resolveRegistrations: timed(metrics, "dynamodb", resolve),
    bindings: {
      jwt: remembered((audience, spiffeId) =>
        jwtBinding({ audience: [...audience], ...(spiffeId !== undefined && { spiffeId }) }),
      ),
      x509: (csr, spiffeId) => x509Binding({ csr, ...(spiffeId !== undefined && { spiffeId }) }),
      batch: (ask) => batchBinding(ask),
    },
    jwtSigner: activeSigner(cache, parts.keys, metrics),
    ca: { issue: timed(metrics, "ca", (r) => ca.issue(r)), trustAnchors: () => ca.trustAnchors() },
    bundle,
    issuer: parts.issuer,
    limits: {
      defaultJwtTtlSeconds: Math.min(DEFAULT_LIMITS.defaultJwtTtlSeconds, maxJwt),
      maxJwtTtlSeconds: maxJwt,
      defaultX509TtlSeconds: Math.min(DEFAULT_LIMITS.defaultX509TtlSeconds, maxX509),
      maxX509TtlSeconds: maxX509,
    },
    clock: parts.clock,
    ...(parts.onIssued && { onIssued: parts.onIssued }),
  });
  return { service, bundle };
}
