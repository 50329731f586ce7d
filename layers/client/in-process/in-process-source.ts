/**
 * InProcessSvidSource: the function's own process proves its IAM role (a SigV4-signed,
 * unsent sts:GetCallerIdentity, lib/proof/lean-proof.ts), calls the bridge's exchange
 * (the extension's HttpExchangeClient: same requests, same answer checks) and caches the
 * SVIDs. No second process, no timers: a Lambda sandbox is frozen between invokes, so
 * every rule runs on access.
 * - Past half its lifetime (lib/spiffe/svid-lifetime.ts), an SVID is renewed on the next
 *   access, inline: no request is left in flight across a freeze. If renewal fails, the
 *   held SVID is served while it is servable; never within its safety margin of expiry.
 * - Callers asking for the same SVID at once share one exchange request.
 * - A refusal (4xx) is remembered for `refusalHoldMs`: a refused caller is answered from
 *   memory, not by a new exchange request, until then; an outage for `outageHoldMs`.
 * - The X.509 key pair is made here, per SVID, and is never sent anywhere (the CSR is).
 * - A restore drops every key and SVID: `onRestore()` from a runtime's after-restore hook;
 *   the first access after a SnapStart init; a wall-clock jump against the monotonic clock.
 * prefetch() asks for every configured SVID in one POST /v1/svid/batch when more than one
 * is due (one proof, one TLS connection: the extension's refresh cycle); its answer
 * carries the trust bundle, which the exchange client parses then (the bundle parser is
 * loaded at that point, ~3 ms and ~0.25 MiB of an init, measured), so validation asks
 * nothing more. What only validation needs (the JWS verifier) is imported on first use.
 * The CSR is written by
 * lib/crypto/p256-workload-key.ts (node:crypto, 0.8 KiB minified), not @peculiar/x509:
 * ~6 MiB and 356 KiB less in the function. It is imported statically: as a chunk of its
 * own, loading it on first use cost an X.509 function's init a module file (~1-2 ms and
 * ~0.1 MiB, measured) to spare a JWT-only function 0.8 KiB.
 */
import { type Clock, systemClock } from "../../../lib/clock.js";
import { createP256WorkloadKey } from "../../../lib/crypto/p256-workload-key.js";
import { MAX_BATCH_JWT_ASKS } from "../../../lib/exchange/requests.js";
import type { TrustBundle, X509Authority } from "../../../lib/spiffe/bundle.js";
import {
  audienceRule,
  MAX_CACHED_AUDIENCES,
  MAX_JWT_SVID_LENGTH,
} from "../../../lib/spiffe/jwt-svid-limits.js";
import { SpiffeId, TrustDomain } from "../../../lib/spiffe/spiffe-id.js";
import {
  BUNDLE_MAX_AGE_MS,
  clockJumped,
  type HeldLifetime,
  isRefreshDue,
  isServable,
} from "../../../lib/spiffe/svid-lifetime.js";
import { DEFAULT_CLOCK_JUMP_SECONDS } from "../../extension/src/config.js";
import {
  type ExchangeClient,
  type ExchangedJwtSvid,
  type ExchangedX509Svid,
  noBatchRoute,
} from "../../extension/src/exchange-client.js";
import { errorFields, type Logger, silentLogger } from "../../extension/src/log.js";
import type { WorkloadKey } from "../../extension/src/workload-key.js";
import type { BundleDocument, JwtSvid, SvidSource, ValidatedJwtSvid, X509Svid } from "../svid-source.js";
import { SvidBridgeClientError } from "../svid-source.js";
import { isRefusal, toClientError } from "./errors.js";

export interface InProcessSourceOptions {
  exchange: ExchangeClient;
  /** Ask for this SPIFFE ID when the role has several registrations. */
  spiffeId?: string;
  /** For validation before any SVID of our own names the trust domain. */
  trustDomain?: string;
  /** What prefetch() fetches besides the X.509-SVID. */
  jwtAudiences?: readonly string[];
  /** X.509-SVIDs on (default) or off. */
  x509?: boolean;
  /** A SnapStart init: what prefetch() fetched is dropped at the first access after it. */
  snapStart?: boolean;
  /** Default DEFAULT_CLOCK_JUMP_SECONDS (the extension's). */
  clockJumpMs?: number;
  /** Default 60 s. */
  refusalHoldMs?: number;
  /** Default 2 s. */
  outageHoldMs?: number;
  newKey?: () => Promise<WorkloadKey>;
  clock?: Clock;
  /** Milliseconds on a clock that never jumps (default process.hrtime). */
  monotonic?: () => number;
  logger?: Logger;
}

interface Held<T> extends HeldLifetime {
  value: T;
}

/** Audiences are the function's own choice, but a cache must not grow without bound. */

export class InProcessSvidSource implements SvidSource {
  readonly mode = "in-process";
  readonly #options: InProcessSourceOptions;
  readonly #clock: Clock;
  readonly #mono: () => number;
  readonly #log: Logger;
  readonly #jwts = new Map<string, Held<JwtSvid>>();
  #x509: Held<X509Svid> | undefined;
  /** The held bundle, parsed on first use (a batch answer's is parsed only if a validation needs it). */
  #bundle: { value: () => Promise<TrustBundle<X509Authority>>; receivedAt: number } | undefined;
  #trustDomain: string | undefined;
  readonly #inflight = new Map<string, Promise<unknown>>();
  readonly #failures = new Map<string, { error: SvidBridgeClientError; until: number }>();
  #last: { wall: number; mono: number } | undefined;
  #restorePending = false;
  /** Set once the exchange answered POST /v1/svid/batch with 404/405 (an older deployment). */
  #noBatch = false;
  /** Bumped by every drop: what a fetch started before it brings back is not kept. */
  #generation = 0;

  constructor(options: InProcessSourceOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    // process.hrtime, not performance.now(): the first use of `performance` loads Node's
    // perf_hooks internals (~1 ms of CPU at init, measured), node:perf_hooks megabytes more.
    this.#mono = options.monotonic ?? (() => Number(process.hrtime.bigint() / 1_000_000n));
    this.#log = options.logger ?? silentLogger;
    this.#trustDomain =
      options.trustDomain ??
      (options.spiffeId ? SpiffeId.parse(options.spiffeId).trustDomain.name : undefined);
  }

  async prefetch(): Promise<void> {
    await this.#fetchConfigured();
    // SnapStart snapshots the sandbox after init: every restored copy holds these.
    if (this.#options.snapStart) this.#restorePending = true;
  }

  jwtSvid(audience: string): Promise<JwtSvid> {
    const broken = typeof audience === "string" ? audienceRule(audience) : "must be a string";
    if (broken)
      return Promise.reject(new SvidBridgeClientError("invalid_request", 400, `the audience ${broken}`));
    return this.#serve(
      `jwt:${audience}`,
      () => this.#jwts.get(audience),
      () => this.#fetchJwt(audience),
    );
  }

  x509Svid(): Promise<X509Svid> {
    if (this.#options.x509 === false)
      return Promise.reject(
        new SvidBridgeClientError("not_found", 404, "X.509-SVIDs are off (SVID_BRIDGE_X509=off)"),
      );
    return this.#serve(
      "x509",
      () => this.#x509,
      () => this.#fetchX509(),
    );
  }

  async bundle(): Promise<BundleDocument> {
    return (await (await this.#trustBundle()).toDocument()) as unknown as BundleDocument;
  }

  async validateJwtSvid(token: string, audience: string): Promise<ValidatedJwtSvid> {
    // Outside input (a request's bearer token): the cheap checks first, as the extension's.
    if (typeof token !== "string" || token.length === 0 || token.length > MAX_JWT_SVID_LENGTH)
      throw new SvidBridgeClientError(
        "jwt_malformed",
        401,
        `a JWT-SVID is 1-${MAX_JWT_SVID_LENGTH} characters`,
      );
    if (typeof audience !== "string" || audience.length === 0)
      throw new SvidBridgeClientError("invalid_request", 400, "name the audience to validate for");
    const bundle = await this.#trustBundle();
    const { validateJwtSvid } = await import("../../../lib/spiffe/jwt-svid.js");
    try {
      const valid = await validateJwtSvid(token, {
        audience,
        bundles: bundle,
        trustDomains: [bundle.trustDomain],
        clock: this.#clock,
      });
      return { spiffeId: valid.spiffeId.toString(), claims: valid.claims as Record<string, unknown> };
    } catch (error) {
      throw toClientError(error);
    }
  }

  /** Drops every key and SVID: call it from an after-restore hook where the runtime has one. */
  onRestore(): void {
    this.#drop("restore hook");
  }

  // ------------------------------------------------------------------ the rules

  async #serve<T>(key: string, held: () => Held<T> | undefined, fetch: () => Promise<T>): Promise<T> {
    this.#observe();
    const now = this.#clock.now();
    const current = held();
    const servable = current && isServable(current, now) ? current : undefined;
    if (servable && !isRefreshDue(servable, now)) return servable.value;
    const failure = this.#failures.get(key);
    if (failure && now < failure.until) {
      if (servable) return servable.value;
      throw failure.error;
    }
    try {
      return await this.#once(key, fetch);
    } catch (cause) {
      const error = toClientError(cause);
      const hold = isRefusal(error)
        ? (this.#options.refusalHoldMs ?? 60_000)
        : (this.#options.outageHoldMs ?? 2_000);
      this.#failures.set(key, { error, until: this.#clock.now() + hold });
      this.#log.log("warn", "SVID fetch failed", { key, ...errorFields(error) });
      // Still within its life: serve it, as the extension does while the exchange is down.
      if (servable && isServable(servable, this.#clock.now())) return servable.value;
      throw error;
    }
  }

  #observe(): void {
    const now = { wall: this.#clock.now(), mono: this.#mono() };
    const clockJumpMs = this.#options.clockJumpMs ?? DEFAULT_CLOCK_JUMP_SECONDS * 1000;
    const jumped = this.#last !== undefined && clockJumped(this.#last, now, clockJumpMs);
    this.#last = now;
    if (jumped) this.#drop("wall-clock jump");
    else if (this.#restorePending) this.#drop("snap-start restore");
  }

  #drop(reason: string): void {
    this.#log.log("info", "dropping every key and SVID", { reason });
    this.#restorePending = false;
    this.#generation++;
    this.#jwts.clear();
    this.#x509 = undefined;
    this.#bundle = undefined;
    this.#inflight.clear();
    this.#failures.clear();
  }

  // ------------------------------------------------------------------ fetching

  /**
   * The configured SVIDs (prefetch(), or the trust domain wanted): the due ones in one
   * POST /v1/svid/batch under one proof, one connection, when more than one is due (its
   * answer carries the bundle too); each served by #serve, so held, refused and
   * in-flight ones are answered as on any access.
   */
  async #fetchConfigured(): Promise<void> {
    this.#observe();
    const audiences = this.#options.jwtAudiences ?? [];
    const keys = [...new Set(audiences)].map((a) => `jwt:${a}`);
    if (this.#options.x509 !== false) keys.push("x509");
    this.#batchDue(keys);
    const work = keys.map((k) => (k === "x509" ? this.x509Svid() : this.jwtSvid(k.slice(4))));
    const results = await Promise.allSettled(work);
    for (const r of results) if (r.status === "rejected") throw r.reason;
  }

  /** Starts one batch for the keys #serve would fetch now, and shares it as each key's in-flight fetch. */
  #batchDue(keys: readonly string[]): void {
    if (this.#noBatch) return;
    const now = this.#clock.now();
    const due = keys.filter((k) => this.#isDue(k, now));
    // An audience jwtSvid() refuses stays out: one bad ask would fail the whole batch.
    const audiences = due.filter((k) => k !== "x509" && !audienceRule(k.slice(4))).map((k) => k.slice(4));
    audiences.splice(MAX_BATCH_JWT_ASKS);
    const x509 = due.includes("x509");
    if (audiences.length + (x509 ? 1 : 0) < 2) return;
    const batch = this.#batch(audiences, x509);
    const fallback = async (error: unknown, alone: () => Promise<unknown>) => {
      if (!noBatchRoute(error)) throw error;
      if (!this.#noBatch) this.#log.log("info", "the exchange has no batch endpoint: one request per SVID");
      this.#noBatch = true;
      return alone();
    };
    audiences.forEach((a, i) => {
      this.#share(
        `jwt:${a}`,
        batch.then(
          (r) => r.jwt[i]!,
          (e) => fallback(e, () => this.#fetchJwt(a)),
        ),
      );
    });
    if (x509)
      this.#share(
        "x509",
        batch.then(
          (r) => r.x509!,
          (e) => fallback(e, () => this.#fetchX509()),
        ),
      );
  }

  /** What #serve would do for this key now: fetch (nothing fresh held, no failure held, none in flight). */
  #isDue(key: string, now: number): boolean {
    if (this.#inflight.has(key)) return false;
    const failure = this.#failures.get(key);
    if (failure && now < failure.until) return false;
    const held = key === "x509" ? this.#x509 : this.#jwts.get(key.slice(4));
    return !(held && isServable(held, now) && !isRefreshDue(held, now));
  }

  async #batch(audiences: readonly string[], x509: boolean): Promise<{ jwt: JwtSvid[]; x509?: X509Svid }> {
    const generation = this.#generation;
    const key = x509 ? await this.#newKey() : undefined;
    const id = this.#options.spiffeId;
    const answer = await this.#options.exchange.batch({
      jwt: audiences.map((audience) => ({ audience: [audience], ...(id && { spiffeId: id }) })),
      ...(key && { x509: { csrPem: key.csrPem, spki: key.spki, ...(id && { spiffeId: id }) } }),
    });
    if (answer.bundle && generation === this.#generation)
      this.#bundle = { value: answer.bundle, receivedAt: this.#clock.now() };
    return {
      jwt: answer.jwt.map((svid, i) => this.#keepJwt(audiences[i]!, svid, generation)),
      ...(key && answer.x509 && { x509: this.#keepX509(key, answer.x509, generation) }),
    };
  }

  async #fetchJwt(audience: string): Promise<JwtSvid> {
    const generation = this.#generation;
    const svid = await this.#options.exchange.fetchJwtSvid([audience], this.#options.spiffeId);
    return this.#keepJwt(audience, svid, generation);
  }

  async #fetchX509(): Promise<X509Svid> {
    const generation = this.#generation;
    const key = await this.#newKey();
    const svid = await this.#options.exchange.fetchX509Svid(key.csrPem, key.spki, this.#options.spiffeId);
    return this.#keepX509(key, svid, generation);
  }

  /** A new key with every X.509-SVID, as SPIRE agents rotate them; made here, kept here. */
  async #newKey(): Promise<WorkloadKey> {
    if (this.#options.newKey) return this.#options.newKey();
    return createP256WorkloadKey();
  }

  /** Held unless a drop came since the fetch started (`generation`); answered either way. */
  #keepJwt(audience: string, svid: ExchangedJwtSvid, generation: number): JwtSvid {
    const value: JwtSvid = {
      spiffeId: svid.spiffeId.toString(),
      token: svid.token,
      audience,
      expiresAt: svid.expiresAt,
    };
    if (generation === this.#generation) {
      if (!this.#jwts.has(audience) && this.#jwts.size >= MAX_CACHED_AUDIENCES)
        this.#jwts.delete(this.#jwts.keys().next().value!);
      this.#jwts.set(audience, this.#held(value, svid.expiresAt));
      this.#trustDomain ??= svid.spiffeId.trustDomain.name;
      this.#failures.delete(`jwt:${audience}`);
    }
    return value;
  }

  #keepX509(key: WorkloadKey, svid: ExchangedX509Svid, generation: number): X509Svid {
    const value: X509Svid = {
      spiffeId: svid.spiffeId.toString(),
      certificateChain: svid.certificateChainPem,
      privateKey: key.privateKeyPem,
      bundle: svid.bundlePem,
      expiresAt: svid.expiresAt,
    };
    if (generation === this.#generation) {
      this.#x509 = this.#held(value, svid.expiresAt);
      this.#trustDomain ??= svid.spiffeId.trustDomain.name;
      this.#failures.delete("x509");
    }
    return value;
  }

  async #trustBundle(): Promise<TrustBundle<X509Authority>> {
    this.#observe();
    let held = this.#bundle;
    if (held && this.#clock.now() - held.receivedAt <= BUNDLE_MAX_AGE_MS) {
      const parsed = await held.value().catch(() => undefined);
      if (parsed) return parsed;
      // A batch answer's bundle that does not parse: dropped, and fetched on its own below.
      if (this.#bundle === held) this.#bundle = undefined;
      held = undefined;
    }
    // As the extension does: our own SVIDs name the trust domain when nothing else has.
    if (!this.#trustDomain) await this.#fetchConfigured();
    const td = this.#trustDomain;
    if (!td)
      throw new SvidBridgeClientError(
        "not_ready",
        503,
        "the trust domain is not known yet: set SVID_BRIDGE_TRUST_DOMAIN (or SVID_BRIDGE_JWT_AUDIENCES), or get an SVID first",
      );
    const generation = this.#generation;
    try {
      return await this.#once("bundle", async () => {
        const bundle = await this.#options.exchange.fetchBundle(TrustDomain.parse(td));
        if (generation === this.#generation)
          this.#bundle = { value: async () => bundle, receivedAt: this.#clock.now() };
        return bundle;
      });
    } catch (error) {
      const stale = held && (await held.value().catch(() => undefined));
      if (stale) return stale;
      throw toClientError(error);
    }
  }

  #held<T>(value: T, expiresAt: number): Held<T> {
    return { value, receivedAt: this.#clock.now(), expiresAtMs: expiresAt * 1000 };
  }

  #once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.#inflight.get(key);
    if (running) return running as Promise<T>;
    return this.#share(key, fn());
  }

  /** `p` is the key's in-flight fetch until it settles (or a drop clears the map). */
  #share<T>(key: string, p: Promise<T>): Promise<T> {
    const shared = p.finally(() => {
      if (this.#inflight.get(key) === shared) this.#inflight.delete(key);
    });
    shared.catch(() => undefined); // its callers see the rejection; none may be waiting yet
    this.#inflight.set(key, shared);
    return shared;
  }
}
