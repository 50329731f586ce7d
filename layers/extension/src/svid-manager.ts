/**
 * What the extension holds: the workload key, the X.509-SVID, JWT-SVIDs per audience and
 * the trust bundle, and the rules for keeping them fresh in a sandbox that is frozen
 * between invokes (timers cannot be trusted, so refresh is driven by INVOKE events and
 * by requests):
 * - past half its lifetime, an SVID is refreshed in the background (on INVOKE, or when
 *   served); it is still served meanwhile;
 * - an expired SVID is never served: the request waits for a refresh, or fails with
 *   503 `not_ready` when the exchange does not answer;
 * - a sandbox restored from a snapshot (SnapStart, or a wall-clock jump against the
 *   monotonic clock between events) drops every key and SVID and gets new ones before
 *   anything is served, since the snapshot cloned them into every restored copy.
 */
import { performance } from "node:perf_hooks";
import { type Clock, systemClock } from "../../../lib/clock.js";
import { BridgeError } from "../../../lib/errors.js";
import type { TrustBundle } from "../../../lib/spiffe/bundle.js";
import { SpiffeId, type TrustDomain } from "../../../lib/spiffe/spiffe-id.js";
import {
  BUNDLE_MAX_AGE_MS,
  clockJumped,
  isRefreshDue,
  isServable,
} from "../../../lib/spiffe/svid-lifetime.js";
import type { ExchangeClient } from "./exchange-client.js";
import { errorFields, type Logger, silentLogger } from "./log.js";
import { createWorkloadKey, type WorkloadKey } from "./workload-key.js";

export interface JwtSvidView {
  spiffeId: string;
  token: string;
  audience: string;
  /** Epoch seconds. */
  expiresAt: number;
}

export interface X509SvidView {
  spiffeId: string;
  /** PEM, leaf first. */
  certificateChainPem: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
  /** PEM of the trust domain's X.509 roots. */
  bundlePem: string;
  expiresAt: number;
}

/** Told whenever what the files mirror changes (files mode). */
export interface SvidListener {
  x509Changed?(svid: X509SvidView): Promise<void>;
  jwtChanged?(svid: JwtSvidView): Promise<void>;
  bundleChanged?(bundle: TrustBundle): Promise<void>;
}

export interface SvidManagerOptions {
  exchange: ExchangeClient;
  /** Audiences fetched at init and refreshed on INVOKE; others are minted on demand. */
  jwtAudiences: readonly string[];
  spiffeId?: string;
  x509: boolean;
  snapStart: boolean;
  clockJumpMs: number;
  newKey?: () => Promise<WorkloadKey>;
  clock?: Clock;
  /** Milliseconds on a clock that never jumps (performance.now). */
  monotonic?: () => number;
  listener?: SvidListener;
  logger?: Logger;
}

interface Held<T> {
  value: T;
  /** Epoch ms: lifetime is measured from receipt, not from the SVID's (backdated) start. */
  receivedAt: number;
  expiresAtMs: number;
}

/** Audiences minted on demand are capped, so a caller cannot grow memory without bound. */
const MAX_AUDIENCES = 64;

export class SvidManager {
  readonly #o: SvidManagerOptions;
  readonly #clock: Clock;
  readonly #mono: () => number;
  readonly #log: Logger;
  readonly #inflight = new Map<string, Promise<unknown>>();
  readonly #jwts = new Map<string, Held<JwtSvidView>>();
  #x509: Held<X509SvidView> | undefined;
  #bundle: Held<TrustBundle> | undefined;
  #trustDomain: TrustDomain | undefined;
  #ready = false;
  /** While set, a rekey is under way and nothing is served. */
  #gate: Promise<void> | undefined;
  #restorePending: boolean;
  #lastWall: number | undefined;
  #lastMono = 0;

  constructor(options: SvidManagerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#mono = options.monotonic ?? (() => performance.now());
    this.#log = options.logger ?? silentLogger;
    this.#restorePending = options.snapStart;
    if (options.spiffeId) this.#trustDomain = SpiffeId.parse(options.spiffeId).trustDomain;
  }

  get ready(): boolean {
    return this.#ready && this.#gate === undefined;
  }

  /** INIT: key, X.509-SVID, bundle, configured JWT-SVIDs. Throws when the exchange fails. */
  initialize(): Promise<void> {
    return this.#once("init", async () => {
      await this.#fetchAll();
      this.#ready = true;
      this.#mark();
    });
  }

  /**
   * An INVOKE arrived: the sandbox is thawed. Returns the background work, which the
   * caller lets finish before it reports done (within the invoke's deadline).
   */
  onInvoke(): Promise<void> {
    const wall = this.#clock.now();
    const mono = this.#mono();
    const jumped =
      this.#lastWall !== undefined &&
      clockJumped({ wall: this.#lastWall, mono: this.#lastMono }, { wall, mono }, this.#o.clockJumpMs);
    this.#mark();
    if (this.#restorePending || jumped) {
      const reason = this.#restorePending ? "snap-start restore" : "wall-clock jump";
      this.#restorePending = false;
      return this.#rekey(reason);
    }
    if (!this.#ready) return this.initialize().catch((e) => this.#warn("init retry failed", e));
    return this.#refreshDue();
  }

  async jwtSvid(audience: string): Promise<JwtSvidView> {
    await this.#gate;
    const held = this.#jwts.get(audience);
    if (held && this.#usable(held)) {
      if (this.#due(held))
        void this.#refreshJwt(audience).catch((e) => this.#warn("JWT-SVID refresh failed", e));
      return held.value;
    }
    if (!held && this.#jwts.size >= MAX_AUDIENCES) this.#evictOneAudience();
    return this.#notReadyOnOutage(this.#refreshJwt(audience));
  }

  async x509Svid(): Promise<X509SvidView> {
    await this.#gate;
    if (!this.#o.x509)
      throw new BridgeError("not_found", "X.509-SVIDs are off in this extension (SVID_BRIDGE_X509=off)", {
        status: 404,
      });
    const held = this.#x509;
    if (held && this.#usable(held)) {
      if (this.#due(held)) void this.#refreshX509().catch((e) => this.#warn("X.509-SVID refresh failed", e));
      return held.value;
    }
    return this.#notReadyOnOutage(this.#refreshX509());
  }

  async bundle(): Promise<TrustBundle> {
    await this.#gate;
    const held = this.#bundle;
    if (held) {
      if (this.#clock.now() - held.receivedAt > BUNDLE_MAX_AGE_MS)
        void this.#refreshBundle().catch((e) => this.#warn("bundle refresh failed", e));
      return held.value;
    }
    if (!this.#trustDomain) await this.#notReadyOnOutage(this.initialize());
    return this.#notReadyOnOutage(this.#refreshBundle());
  }

  /** Drops the private key from memory at SHUTDOWN. */
  close(): void {
    this.#x509 = undefined;
    this.#jwts.clear();
    this.#ready = false;
  }

  // ------------------------------------------------------------------ refresh

  async #fetchAll(): Promise<void> {
    // All at once: each SVID request carries its own proof. The first answer names the
    // trust domain (unless configured), and the bundle is fetched as soon as it is known.
    const svids: Promise<unknown>[] = this.#o.jwtAudiences.map((a) => this.#refreshJwt(a));
    if (this.#o.x509) svids.push(this.#refreshX509());
    const bundle = this.#trustDomain
      ? this.#refreshBundle()
      : Promise.any(svids).then(
          () => this.#refreshBundle(),
          () => undefined,
        );
    // allSettled first: no fetch is left running unobserved when one fails.
    const results = await Promise.allSettled([...svids, bundle]);
    for (const r of results) if (r.status === "rejected") throw r.reason;
  }

  #rekey(reason: string): Promise<void> {
    this.#log.log("info", "new key pair and SVIDs before serving", { reason });
    // Whatever the snapshot holds is cloned: forget it before anything else can read it.
    this.#x509 = undefined;
    this.#jwts.clear();
    this.#ready = false;
    const gate = this.#fetchAll()
      .then(() => {
        this.#ready = true;
      })
      .catch((e) => this.#warn("rekey failed; serving 503 until the exchange answers", e))
      .finally(() => {
        if (this.#gate === gate) this.#gate = undefined;
      });
    this.#gate = gate;
    return gate;
  }

  async #refreshDue(): Promise<void> {
    const work: Promise<unknown>[] = [];
    if (this.#x509 && this.#due(this.#x509)) work.push(this.#refreshX509());
    for (const [audience, held] of this.#jwts) if (this.#due(held)) work.push(this.#refreshJwt(audience));
    if (this.#bundle && this.#clock.now() - this.#bundle.receivedAt > BUNDLE_MAX_AGE_MS)
      work.push(this.#refreshBundle());
    const results = await Promise.allSettled(work);
    for (const r of results) if (r.status === "rejected") this.#warn("refresh failed", r.reason);
  }

  #refreshX509(): Promise<X509SvidView> {
    return this.#once("x509", async () => {
      // A new key with every X.509-SVID, as SPIRE agents rotate them.
      const key = await (this.#o.newKey ?? createWorkloadKey)();
      const svid = await this.#o.exchange.fetchX509Svid(key.csrPem, key.spki, this.#o.spiffeId);
      const receivedAt = this.#clock.now();
      const view: X509SvidView = {
        spiffeId: svid.spiffeId.toString(),
        certificateChainPem: svid.certificateChainPem,
        privateKeyPem: key.privateKeyPem,
        bundlePem: svid.bundlePem,
        expiresAt: svid.expiresAt,
      };
      this.#x509 = { value: view, receivedAt, expiresAtMs: svid.expiresAt * 1000 };
      this.#trustDomain ??= svid.spiffeId.trustDomain;
      this.#log.log("info", "X.509-SVID refreshed", { spiffeId: view.spiffeId, expiresAt: view.expiresAt });
      await this.#notify(() => this.#o.listener?.x509Changed?.(view));
      return view;
    });
  }

  #refreshJwt(audience: string): Promise<JwtSvidView> {
    return this.#once(`jwt:${audience}`, async () => {
      const svid = await this.#o.exchange.fetchJwtSvid([audience], this.#o.spiffeId);
      const view: JwtSvidView = {
        spiffeId: svid.spiffeId.toString(),
        token: svid.token,
        audience,
        expiresAt: svid.expiresAt,
      };
      this.#jwts.set(audience, {
        value: view,
        receivedAt: this.#clock.now(),
        expiresAtMs: svid.expiresAt * 1000,
      });
      this.#trustDomain ??= svid.spiffeId.trustDomain;
      this.#log.log("info", "JWT-SVID refreshed", { audience, expiresAt: view.expiresAt });
      await this.#notify(() => this.#o.listener?.jwtChanged?.(view));
      return view;
    });
  }

  #refreshBundle(): Promise<TrustBundle> {
    return this.#once("bundle", async () => {
      const td = this.#trustDomain;
      if (!td) throw new BridgeError("not_ready", "the trust domain is not known yet");
      const bundle = await this.#o.exchange.fetchBundle(td);
      this.#bundle = { value: bundle, receivedAt: this.#clock.now(), expiresAtMs: Number.POSITIVE_INFINITY };
      await this.#notify(() => this.#o.listener?.bundleChanged?.(bundle));
      return bundle;
    });
  }

  // ------------------------------------------------------------------ helpers

  #usable(held: Held<unknown>): boolean {
    return isServable(held, this.#clock.now());
  }

  #due(held: Held<unknown>): boolean {
    return isRefreshDue(held, this.#clock.now());
  }

  #mark(): void {
    this.#lastWall = this.#clock.now();
    this.#lastMono = this.#mono();
  }

  #evictOneAudience(): void {
    const configured = new Set(this.#o.jwtAudiences);
    for (const audience of this.#jwts.keys())
      if (!configured.has(audience)) {
        this.#jwts.delete(audience);
        return;
      }
  }

  async #notReadyOnOutage<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (cause) {
      if (cause instanceof BridgeError && cause.code !== "exchange_unavailable") throw cause;
      throw new BridgeError("not_ready", "no valid SVID, and the exchange does not answer", {
        cause,
        expose: true,
      });
    }
  }

  async #notify(fn: () => Promise<void> | undefined): Promise<void> {
    try {
      await fn();
    } catch (e) {
      this.#warn("writing SVID files failed", e);
    }
  }

  #once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.#inflight.get(key);
    if (running) return running as Promise<T>;
    const p = fn().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  #warn(message: string, error: unknown): void {
    this.#log.log("warn", message, errorFields(error));
  }
}
