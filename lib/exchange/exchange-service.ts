/**
 * The token exchange: a proof of IAM identity and a request go in, SVIDs come out.
 * Order matters: the request is parsed and checked first (cheap, and a malformed
 * request must not burn the caller's single-use proof), then the proof, then the
 * registrations, then issuance. Every refusal is a BridgeError with a stable code.
 */
import { randomUUID } from "node:crypto";
import { type Clock, systemClock } from "../clock.js";
import { BridgeError } from "../errors.js";
import type { CallerIdentity, CallerVerifier } from "../ports/caller-verifier.js";
import type { CertificateAuthority } from "../ports/certificate-authority.js";
import type { Signer } from "../ports/key-manager.js";
import type { SvidKind } from "../ports/registration-store.js";
import type { RegistrationMatch } from "../registrations/match-registrations.js";
import type { TrustBundle } from "../spiffe/bundle.js";
import { mintJwtSvid } from "../spiffe/jwt-svid.js";
import type { SpiffeId } from "../spiffe/spiffe-id.js";
import { certificatesToPem, checkCsr, parseCsr } from "../spiffe/x509-svid.js";
import {
  type JwtSvidRequest,
  parseJwtSvidRequest,
  parseX509SvidRequest,
  type X509SvidRequest,
} from "./requests.js";

export type { RegistrationMatch };

/** Finds the caller's entries (one Query) and matches them; may throw `role_id_mismatch`, `invalid_rendered_id`. */
export type RegistrationResolver = (identity: CallerIdentity) => Promise<RegistrationMatch[]>;

/** How a request's binding is computed: must equal what the client signed (lib/proof). */
export interface BindingFunctions {
  jwt(audience: readonly string[], spiffeId?: string): string;
  x509(csr: string, spiffeId?: string): string;
}

export interface ExchangeLimits {
  defaultJwtTtlSeconds: number;
  maxJwtTtlSeconds: number;
  defaultX509TtlSeconds: number;
  maxX509TtlSeconds: number;
}

export const DEFAULT_LIMITS: ExchangeLimits = Object.freeze({
  defaultJwtTtlSeconds: 300,
  maxJwtTtlSeconds: 3600,
  defaultX509TtlSeconds: 3600,
  maxX509TtlSeconds: 24 * 3600,
});

/** One line per issuance, for the audit log: who, what, which kind, serial or jti, expiry. */
export interface IssuanceEvent {
  kind: SvidKind;
  callerArn: string;
  entryId: string;
  spiffeId: string;
  /** jti for JWT-SVIDs, certificate serial for X.509-SVIDs. */
  serialOrJti: string;
  expiresAt: number;
  audience?: string[];
}

export interface ExchangeServiceDeps {
  verifier: CallerVerifier;
  resolveRegistrations: RegistrationResolver;
  bindings: BindingFunctions;
  /** The active JWT signing key, from the key set. */
  jwtSigner: () => Promise<Signer>;
  ca: CertificateAuthority;
  bundle: () => Promise<TrustBundle>;
  /** `iss` of every JWT-SVID: the discovery issuer URL. */
  issuer: string;
  limits?: ExchangeLimits;
  clock?: Clock;
  onIssued?: (event: IssuanceEvent) => void;
}

export interface JwtSvidResponse {
  svids: Array<{ spiffe_id: string; token: string; expires_at: number }>;
}

export interface X509SvidResponse {
  svids: Array<{ spiffe_id: string; certificate_chain: string; expires_at: number }>;
  bundle: string;
}

export class ExchangeService {
  readonly #deps: ExchangeServiceDeps;
  readonly #limits: ExchangeLimits;
  readonly #clock: Clock;

  constructor(deps: ExchangeServiceDeps) {
    this.#deps = deps;
    this.#limits = deps.limits ?? DEFAULT_LIMITS;
    this.#clock = deps.clock ?? systemClock;
  }

  /** The caller whose proof was accepted, for logs; set as early as it is known. */
  async issueJwtSvids(body: unknown, observe?: (identity: CallerIdentity) => void): Promise<JwtSvidResponse> {
    const request: JwtSvidRequest = parseJwtSvidRequest(body);
    const identity = await this.#deps.verifier.verify({
      proof: request.proof,
      expectedBinding: this.#deps.bindings.jwt(request.audience, request.spiffeId?.toString()),
    });
    observe?.(identity);
    const matches = this.#select(await this.#deps.resolveRegistrations(identity), "jwt", request.spiffeId);
    for (const m of matches) {
      const allowed = m.entry.audiences;
      if (allowed && allowed.length > 0) {
        const refused = request.audience.filter((a) => !allowed.includes(a));
        if (refused.length > 0)
          throw new BridgeError(
            "audience_not_allowed",
            `audience ${JSON.stringify(refused[0])} is not allowed for ${m.spiffeId}`,
            {
              details: { entryId: m.entry.id, spiffeId: m.spiffeId.toString() },
            },
          );
      }
    }
    const signer = await this.#deps.jwtSigner();
    const svids: JwtSvidResponse["svids"] = [];
    for (const m of matches) {
      const ttl = Math.min(
        m.entry.jwtTtlSeconds ?? this.#limits.defaultJwtTtlSeconds,
        this.#limits.maxJwtTtlSeconds,
      );
      const jti = randomUUID();
      const svid = await mintJwtSvid({
        spiffeId: m.spiffeId,
        audience: request.audience,
        ttlSeconds: ttl,
        signer,
        issuer: this.#deps.issuer,
        jti,
        clock: this.#clock,
      });
      svids.push({ spiffe_id: m.spiffeId.toString(), token: svid.token, expires_at: svid.expiresAt });
      this.#deps.onIssued?.({
        kind: "jwt",
        callerArn: identity.arn,
        entryId: m.entry.id,
        spiffeId: m.spiffeId.toString(),
        serialOrJti: jti,
        expiresAt: svid.expiresAt,
        audience: request.audience,
      });
    }
    return { svids };
  }

  async issueX509Svids(
    body: unknown,
    observe?: (identity: CallerIdentity) => void,
  ): Promise<X509SvidResponse> {
    const request: X509SvidRequest = parseX509SvidRequest(body);
    const proof = {
      proof: request.proof,
      expectedBinding: this.#deps.bindings.x509(request.csr, request.spiffeId?.toString()),
    };
    this.#deps.verifier.checkLocally?.(proof); // every proof rule before any CSR parsing (issue 14)
    const csr = parseCsr(request.csr);
    const checked = await checkCsr(csr);
    const identity = await this.#deps.verifier.verify(proof);
    observe?.(identity);
    const matches = this.#select(await this.#deps.resolveRegistrations(identity), "x509", request.spiffeId);
    const csrPem = csr.toString("pem");
    const svids: X509SvidResponse["svids"] = [];
    for (const m of matches) {
      const ttl = Math.min(
        m.entry.x509TtlSeconds ?? this.#limits.defaultX509TtlSeconds,
        this.#limits.maxX509TtlSeconds,
      );
      const issued = await this.#deps.ca.issue({
        spiffeId: m.spiffeId,
        subjectPublicKey: checked.spki,
        ttlSeconds: ttl,
        ...(m.entry.dnsNames && m.entry.dnsNames.length > 0 && { dnsNames: m.entry.dnsNames }),
        csrPem,
      });
      svids.push({
        spiffe_id: m.spiffeId.toString(),
        certificate_chain: certificatesToPem(issued.chain),
        expires_at: issued.expiresAt,
      });
      this.#deps.onIssued?.({
        kind: "x509",
        callerArn: identity.arn,
        entryId: m.entry.id,
        spiffeId: m.spiffeId.toString(),
        serialOrJti: issued.serialNumber,
        expiresAt: issued.expiresAt,
      });
    }
    const bundle = await this.#deps.bundle();
    return { svids, bundle: bundle.toX509Pem() };
  }

  /** Keeps the entries that may get this kind (and the asked SPIFFE ID); refuses when none is left. */
  #select(matches: RegistrationMatch[], kind: SvidKind, wanted: SpiffeId | undefined): RegistrationMatch[] {
    if (matches.length === 0)
      throw new BridgeError("no_registration", "no registration entry matches this caller");
    const forId = wanted ? matches.filter((m) => m.spiffeId.equals(wanted)) : matches;
    if (forId.length === 0)
      throw new BridgeError("no_registration", `this caller is not registered for ${wanted?.toString()}`);
    const forKind = forId.filter((m) => m.entry.kinds.includes(kind));
    if (forKind.length === 0)
      throw new BridgeError(
        "svid_kind_not_allowed",
        `this caller's registration does not allow ${kind === "jwt" ? "JWT" : "X.509"}-SVIDs`,
      );
    // Two entries rendering the same ID would mint duplicates: keep the first of each.
    const seen = new Set<string>();
    return forKind.filter((m) => {
      const key = m.spiffeId.toString();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
}
