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
import type { BatchAsk } from "../proof/binding.js";
import type { RegistrationMatch } from "../registrations/match-registrations.js";
import type { SpiffeBundleDocument, TrustBundle } from "../spiffe/bundle.js";
import { mintJwtSvid } from "../spiffe/jwt-svid.js";
import type { SpiffeId } from "../spiffe/spiffe-id.js";
import { DEFAULT_MAX_JWT_TTL_SECONDS, DEFAULT_MAX_X509_TTL_SECONDS } from "../spiffe/svid-ttl.js";
import { certificatesToPem, checkCsr, parseCsr } from "../spiffe/x509-svid.js";
import {
  type JwtSvidRequest,
  parseBatchRequest,
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
  batch(ask: BatchAsk): string;
}

export interface ExchangeLimits {
  defaultJwtTtlSeconds: number;
  maxJwtTtlSeconds: number;
  defaultX509TtlSeconds: number;
  maxX509TtlSeconds: number;
}

export const DEFAULT_LIMITS: ExchangeLimits = Object.freeze({
  defaultJwtTtlSeconds: 300,
  maxJwtTtlSeconds: DEFAULT_MAX_JWT_TTL_SECONDS,
  defaultX509TtlSeconds: 3600,
  maxX509TtlSeconds: DEFAULT_MAX_X509_TTL_SECONDS,
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

/**
 * The answer to POST /v1/svid/batch: `jwt` in the order asked, `x509` when it was asked,
 * and always `spiffe_bundle`, the trust domain's SPIFFE bundle document (what GET
 * /v1/bundle serves), so a client's init is one round trip.
 */
export interface BatchResponse {
  jwt: Array<{ audience: string[]; svids: JwtSvidResponse["svids"] }>;
  x509?: X509SvidResponse;
  spiffe_bundle: SpiffeBundleDocument;
}

interface CheckedX509Ask {
  spki: Uint8Array;
  csrPem: string;
  spiffeId?: SpiffeId;
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

  /**
   * POST /v1/svid/jwt: parses `body` ({audience: string[], spiffe_id?, proof}), verifies the
   * proof bound to that ask, and mints one JWT-SVID (RFC 7519 JWS, SPIFFE JWT-SVID) per
   * registration that matches the caller and allows the audience (the named one only, when
   * spiffe_id is given); `expires_at` is epoch seconds.
   * @param observe learns the caller whose proof was accepted, for logs, as early as it is known.
   * @throws BridgeError invalid_request/unknown_field (the body), proof_* / principal_not_allowed
   *   (the proof), no_registration / audience_not_allowed / svid_kind_not_allowed (policy),
   *   not_ready / key_unavailable (signing).
   */
  async issueJwtSvids(body: unknown, observe?: (identity: CallerIdentity) => void): Promise<JwtSvidResponse> {
    const request: JwtSvidRequest = parseJwtSvidRequest(body);
    const identity = await this.#deps.verifier.verify({
      proof: request.proof,
      expectedBinding: this.#deps.bindings.jwt(request.audience, request.spiffeId?.toString()),
    });
    observe?.(identity);
    const matches = this.#planJwt(await this.#deps.resolveRegistrations(identity), request);
    const events: IssuanceEvent[] = [];
    const svids = await this.#mintJwt(
      matches,
      request.audience,
      await this.#deps.jwtSigner(),
      identity,
      events,
    );
    this.#emit(events);
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
    const ask = await checkX509Ask(request.csr, request.spiffeId);
    const identity = await this.#deps.verifier.verify(proof);
    observe?.(identity);
    const matches = this.#select(await this.#deps.resolveRegistrations(identity), "x509", ask.spiffeId);
    const events: IssuanceEvent[] = [];
    const answer = await this.#issueX509(matches, ask, identity, events);
    this.#emit(events);
    return answer;
  }

  /**
   * Every ask of one refresh cycle under one proof: one STS call, one replay write, one
   * registration lookup. All or nothing: every ask is checked against the caller's
   * registrations before anything is signed, and the first refused ask refuses the whole
   * batch with that ask's code (`details.ask` names it, e.g. "jwt[1]" or "x509"). Nothing
   * is returned or audited unless every ask was issued.
   */
  async issueBatch(body: unknown, observe?: (identity: CallerIdentity) => void): Promise<BatchResponse> {
    const request = parseBatchRequest(body);
    const asked = request.x509;
    const proof = {
      proof: request.proof,
      expectedBinding: this.#deps.bindings.batch({
        jwt: request.jwt.map((a) => ({
          audience: a.audience,
          ...(a.spiffeId && { spiffeId: a.spiffeId.toString() }),
        })),
        ...(asked && {
          x509: { csr: asked.csr, ...(asked.spiffeId && { spiffeId: asked.spiffeId.toString() }) },
        }),
      }),
    };
    this.#deps.verifier.checkLocally?.(proof); // every proof rule before any CSR parsing (issue 14)
    const x509 = asked && (await checkX509Ask(asked.csr, asked.spiffeId));
    const identity = await this.#deps.verifier.verify(proof);
    observe?.(identity);
    const all = await this.#deps.resolveRegistrations(identity);
    const jwtPlans = request.jwt.map((ask, i) => askRefused(`jwt[${i}]`, () => this.#planJwt(all, ask)));
    const x509Plan = x509 && askRefused("x509", () => this.#select(all, "x509", x509.spiffeId));
    const events: IssuanceEvent[] = [];
    // JWT signatures and the X.509 issue run together: with KMS each is a round trip.
    const signer = jwtPlans.length > 0 ? this.#deps.jwtSigner() : undefined;
    const [jwt, x509Answer, spiffeBundle] = await Promise.all([
      Promise.all(
        jwtPlans.map(async (matches, i) => {
          const audience = request.jwt[i]!.audience;
          return { audience, svids: await this.#mintJwt(matches, audience, await signer!, identity, events) };
        }),
      ),
      x509 && x509Plan ? this.#issueX509(x509Plan, x509, identity, events) : undefined,
      this.#deps.bundle().then((b) => b.toDocument()),
    ]);
    this.#emit(events);
    return { jwt, ...(x509Answer && { x509: x509Answer }), spiffe_bundle: spiffeBundle };
  }

  /** The entries a JWT ask may be answered from, its audiences checked against each. */
  #planJwt(all: RegistrationMatch[], ask: { audience: string[]; spiffeId?: SpiffeId }): RegistrationMatch[] {
    const matches = this.#select(all, "jwt", ask.spiffeId);
    for (const m of matches) {
      const allowed = m.entry.audiences;
      if (!allowed || allowed.length === 0) continue;
      const refused = ask.audience.find((a) => !allowed.includes(a));
      if (refused !== undefined)
        throw new BridgeError(
          "audience_not_allowed",
          `audience ${JSON.stringify(refused)} is not allowed for ${m.spiffeId}`,
          { details: { entryId: m.entry.id, spiffeId: m.spiffeId.toString() } },
        );
    }
    return matches;
  }

  async #mintJwt(
    matches: RegistrationMatch[],
    audience: string[],
    signer: Signer,
    identity: CallerIdentity,
    events: IssuanceEvent[],
  ): Promise<JwtSvidResponse["svids"]> {
    const svids: JwtSvidResponse["svids"] = [];
    for (const m of matches) {
      const ttl = Math.min(
        m.entry.jwtTtlSeconds ?? this.#limits.defaultJwtTtlSeconds,
        this.#limits.maxJwtTtlSeconds,
      );
      const jti = randomUUID();
      const spiffeId = m.spiffeId.toString();
      const svid = await mintJwtSvid({
        spiffeId: m.spiffeId,
        audience,
        ttlSeconds: ttl,
        signer,
        issuer: this.#deps.issuer,
        jti,
        clock: this.#clock,
      });
      svids.push({ spiffe_id: spiffeId, token: svid.token, expires_at: svid.expiresAt });
      events.push({
        kind: "jwt",
        callerArn: identity.arn,
        entryId: m.entry.id,
        spiffeId,
        serialOrJti: jti,
        expiresAt: svid.expiresAt,
        audience,
      });
    }
    return svids;
  }

  async #issueX509(
    matches: RegistrationMatch[],
    ask: CheckedX509Ask,
    identity: CallerIdentity,
    events: IssuanceEvent[],
  ): Promise<X509SvidResponse> {
    const svids: X509SvidResponse["svids"] = [];
    for (const m of matches) {
      const ttl = Math.min(
        m.entry.x509TtlSeconds ?? this.#limits.defaultX509TtlSeconds,
        this.#limits.maxX509TtlSeconds,
      );
      const issued = await this.#deps.ca.issue({
        spiffeId: m.spiffeId,
        subjectPublicKey: ask.spki,
        ttlSeconds: ttl,
        ...(m.entry.dnsNames && m.entry.dnsNames.length > 0 && { dnsNames: m.entry.dnsNames }),
        csrPem: ask.csrPem,
      });
      const spiffeId = m.spiffeId.toString();
      svids.push({
        spiffe_id: spiffeId,
        certificate_chain: certificatesToPem(issued.chain),
        expires_at: issued.expiresAt,
      });
      events.push({
        kind: "x509",
        callerArn: identity.arn,
        entryId: m.entry.id,
        spiffeId,
        serialOrJti: issued.serialNumber,
        expiresAt: issued.expiresAt,
      });
    }
    const bundle = await this.#deps.bundle();
    return { svids, bundle: bundle.toX509Pem() };
  }

  #emit(events: readonly IssuanceEvent[]): void {
    const onIssued = this.#deps.onIssued;
    if (onIssued) for (const event of events) onIssued(event);
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

/**
 * Parses the CSR and checks its signature: after the proof's local rules (so an
 * unauthenticated request never reaches the parser) and before STS and the replay write
 * (so a bad CSR does not burn the proof).
 */
async function checkX509Ask(csrText: string, spiffeId: SpiffeId | undefined): Promise<CheckedX509Ask> {
  const csr = parseCsr(csrText);
  const checked = await checkCsr(csr);
  return { spki: checked.spki, csrPem: csr.toString("pem"), ...(spiffeId && { spiffeId }) };
}

/** Runs one ask's checks; a refusal names the ask (`details.ask`) so the caller knows which one. */
function askRefused<T>(ask: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof BridgeError)) throw error;
    throw new BridgeError(error.code, `${ask}: ${error.message}`, {
      details: { ...error.details, ask },
      cause: error,
    });
  }
}
