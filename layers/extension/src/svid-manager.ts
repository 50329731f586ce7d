/**
 * The SVID manager: one core, two hosts. It holds the workload key, the X.509-SVID,
 * JWT-SVIDs per audience and the trust bundle, keeps them fresh, and publishes every
 * change to its subscribers (files, Workload API streams). It owns no timer and no
 * lifecycle: a driver says when the host is awake (`refresh()`), and the driver is thin:
 * - the Lambda extension (main.ts, lambda-driver.ts) calls `refresh()` on every INVOKE,
 *   since timers cannot be trusted in a sandbox that is frozen between invokes;
 * - `svid-bridge agent` (lib/agent/) calls it from a timer set to `nextRefreshAt()`.
 * The rules, the same in both hosts:
 * - past half its lifetime, an SVID is refreshed in the background (on `refresh()`, or
 *   when served); it is still served meanwhile;
 * - an expired SVID is never served: the request waits for a refresh, or fails with
 *   503 `not_ready` when the exchange does not answer;
 * - a restored snapshot (SnapStart, or a wall-clock jump against the monotonic clock
 *   between two `refresh()` calls) drops every key and SVID and gets new ones before
 *   anything is served, since the snapshot cloned them into every restored copy.
 * Each refresh is one cycle (`#runCycle`): the asks of one wake-up, sent together, so a
 * batched exchange call can replace the per-ask calls in that one place.
 */
import { performance } from "node:perf_hooks";
import { type Clock, systemClock } from "../../../lib/clock.js";
import { BridgeError } from "../../../lib/errors.js";
import type { TrustBundle, X509Authority } from "../../../lib/spiffe/bundle.js";
import { MAX_CACHED_AUDIENCES } from "../../../lib/spiffe/jwt-svid-limits.js";
import { SpiffeId, type TrustDomain } from "../../../lib/spiffe/spiffe-id.js";
import {
  BUNDLE_MAX_AGE_MS,
  clockJumped,
  isRefreshDue,
  isServable,
  refreshDueAt,
} from "../../../lib/spiffe/svid-lifetime.js";
import {
  type ExchangeClient,
  type ExchangedJwtSvid,
  type ExchangedX509Svid,
  noBatchRoute,
} from "./exchange-client.js";
import { errorFields, type Logger, silentLogger } from "./log.js";
import { createWorkloadKey, type WorkloadKey } from "./workload-key.js";

export interface JwtSvidView {
  spiffeId: string;
  token: string;
  /** The audience, or the audiences joined by spaces when there are several. */
  audience: string;
  /** Every audience the token names (absent: just `audience`). */
  audiences?: readonly string[];
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

/** Told whenever what is held changes (files mode, Workload API streams). */
export interface SvidListener {
  x509Changed?(svid: X509SvidView): Promise<void> | void;
  jwtChanged?(svid: JwtSvidView): Promise<void> | void;
  bundleChanged?(bundle: TrustBundle<X509Authority>): Promise<void> | void;
  /** The manager closed (SHUTDOWN, SIGTERM): nothing more will come. */
  closed?(): void;
}

/**
 * Where the manager stands, for callers that must not wait (Workload API streams):
 * `fetching` (no SVIDs yet, or a rekey under way), `ready`, or `refused` (the exchange
 * said no to this caller: e.g. no registration; `error` is the exchange_rejected error).
 */
export type ManagerStatus =
  | { kind: "fetching" }
  | { kind: "ready" }
  | { kind: "refused"; error: BridgeError };

export interface SvidManagerOptions {
  exchange: ExchangeClient;
  /** Audiences fetched at init and kept fresh; others are minted on demand. */
  jwtAudiences: readonly string[];
  spiffeId?: string;
  x509: boolean;
  snapStart: boolean;
  clockJumpMs: number;
  newKey?: () => Promise<WorkloadKey>;
  clock?: Clock;
  /** Milliseconds on a clock that never jumps (performance.now). */
  monotonic?: () => number;
  /** The first subscriber (files mode). More with `subscribe`. */
  listener?: SvidListener;
  logger?: Logger;
}

interface Held<T> {
  value: T;
  /** Epoch ms: lifetime is measured from receipt, not from the SVID's (backdated) start. */
  receivedAt: number;
  expiresAtMs: number;
}

/** The asks of one refresh cycle. */
interface Cycle {
  x509: boolean;
  audiences: readonly (readonly string[])[];
  bundle: boolean;
}

/** Audiences minted on demand are capped, so a caller cannot grow memory without bound. */

export class SvidManager {
  readonly #options: SvidManagerOptions;
  readonly #clock: Clock;
  readonly #mono: () => number;
  readonly #log: Logger;
  readonly #inflight = new Map<string, Promise<unknown>>();
  /** Set once the exchange has no POST /v1/svid/batch (an older deployment): one call per ask. */
  #noBatch = false;
  readonly #jwts = new Map<string, Held<JwtSvidView>>();
  readonly #listeners = new Set<SvidListener>();
  #x509: Held<X509SvidView> | undefined;
  #bundle: Held<TrustBundle<X509Authority>> | undefined;
  #trustDomain: TrustDomain | undefined;
  #ready = false;
  #refusal: BridgeError | undefined;
  /** While set, a rekey is under way and nothing is served. */
  #gate: Promise<void> | undefined;
  #restorePending: boolean;
  #lastWall: number | undefined;
  #lastMono = 0;

  constructor(options: SvidManagerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#mono = options.monotonic ?? (() => performance.now());
    this.#log = options.logger ?? silentLogger;
    this.#restorePending = options.snapStart;
    if (options.listener) this.#listeners.add(options.listener);
    if (options.spiffeId) this.#trustDomain = SpiffeId.parse(options.spiffeId).trustDomain;
  }

  get ready(): boolean {
    return this.#ready && this.#gate === undefined;
  }

  status(): ManagerStatus {
    if (this.ready) return { kind: "ready" };
    return this.#refusal ? { kind: "refused", error: this.#refusal } : { kind: "fetching" };
  }

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(listener: SvidListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
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
   * The host is awake (Lambda: an INVOKE thawed the sandbox; the agent: its timer fired).
   * Rekeys after a restore or a clock jump, retries a failed init, refreshes what is
   * due. Returns the work, which never rejects (failures are logged).
   */
  refresh(): Promise<void> {
    const wall = this.#clock.now();
    const mono = this.#mono();
    const jumped =
      this.#lastWall !== undefined &&
      clockJumped({ wall: this.#lastWall, mono: this.#lastMono }, { wall, mono }, this.#options.clockJumpMs);
    this.#mark();
    if (this.#restorePending || jumped) {
      const reason = this.#restorePending ? "snap-start restore" : "wall-clock jump";
      this.#restorePending = false;
      return this.#rekey(reason);
    }
    if (!this.#ready) return this.initialize().catch((e) => this.#warn("init retry failed", e));
    return this.#refreshDue();
  }

  /**
   * Epoch ms of the earliest moment something held is due (half its lifetime, or the
   * bundle's maximum age); undefined when nothing is held. The agent's timer target.
   */
  nextRefreshAt(): number | undefined {
    const times: number[] = [];
    if (this.#x509) times.push(refreshDueAt(this.#x509));
    for (const held of this.#jwts.values()) times.push(refreshDueAt(held));
    if (this.#bundle) times.push(this.#bundle.receivedAt + BUNDLE_MAX_AGE_MS);
    return times.length ? Math.min(...times) : undefined;
  }

  /** A JWT-SVID for one audience, or for several in one token (the Workload API's ask). */
  async jwtSvid(audience: string | readonly string[]): Promise<JwtSvidView> {
    await this.#gate;
    const audiences = typeof audience === "string" ? [audience] : audience;
    const held = this.#jwts.get(jwtKey(audiences));
    if (held && this.#usable(held)) {
      if (this.#due(held))
        void this.#refreshJwt(audiences).catch((e) => this.#warn("JWT-SVID refresh failed", e));
      return held.value;
    }
    if (!held && this.#jwts.size >= MAX_CACHED_AUDIENCES) this.#evictOneAudience();
    return this.#notReadyOnOutage(this.#refreshJwt(audiences));
  }

  async x509Svid(): Promise<X509SvidView> {
    await this.#gate;
    if (!this.#options.x509)
      throw new BridgeError("not_found", "X.509-SVIDs are off in this extension (SVID_BRIDGE_X509=off)");
    const held = this.#x509;
    if (held && this.#usable(held)) {
      if (this.#due(held)) void this.#refreshX509().catch((e) => this.#warn("X.509-SVID refresh failed", e));
      return held.value;
    }
    return this.#notReadyOnOutage(this.#refreshX509());
  }

  /** What is held and usable now, without waiting or fetching (undefined otherwise). */
  currentX509(): X509SvidView | undefined {
    const held = this.#gate ? undefined : this.#x509;
    return held && this.#usable(held) ? held.value : undefined;
  }

  /** The bundle held now, without waiting or fetching. */
  currentBundle(): TrustBundle<X509Authority> | undefined {
    return this.#gate ? undefined : this.#bundle?.value;
  }

  async bundle(): Promise<TrustBundle<X509Authority>> {
    await this.#gate;
    const held = this.#bundle;
    if (held) {
      if (this.#clock.now() - held.receivedAt > BUNDLE_MAX_AGE_MS)
        void this.#refreshBundle().catch((e) => this.#warn("bundle refresh failed", e));
      return held.value;
    }
    if (!this.#trustDomain) await this.#notReadyOnOutage(this.initialize());
    const fetched = this.#bundle; // init's batch answer brought it
    if (fetched) return fetched.value;
    return this.#notReadyOnOutage(this.#refreshBundle());
  }

  /** Drops the private key from memory (SHUTDOWN, SIGTERM) and tells subscribers it is over. */
  close(): void {
    this.#x509 = undefined;
    this.#jwts.clear();
    this.#ready = false;
    for (const l of [...this.#listeners]) l.closed?.();
    this.#listeners.clear();
  }

  // ------------------------------------------------------------------ refresh

  #fetchAll(): Promise<void> {
    const audiences = this.#options.jwtAudiences.map((a) => [a]);
    return this.#runCycle({ x509: this.#options.x509, audiences, bundle: true }, true);
  }

  /**
   * One refresh cycle: every SVID ask in one POST /v1/svid/batch under one proof (one
   * STS call, one replay write at the exchange; its answer carries the bundle), or one
   * request per ask when there is a single ask and no bundle due, or the exchange has no
   * batch endpoint (then the first answer names the trust domain, unless configured, and
   * GET /v1/bundle follows as soon as it is known). With `strict`, the first failure is thrown (init); otherwise failures are logged. A
   * refusal (exchange_rejected) is remembered for `status()`.
   */
  async #runCycle(cycle: Cycle, strict: boolean): Promise<void> {
    const asks = cycle.audiences.length + (cycle.x509 ? 1 : 0);
    // One ask alone goes to its own endpoint, unless the bundle is wanted too: the batch
    // answer carries it, so the cycle stays one round trip.
    const batched = !this.#noBatch && (asks > 1 || (asks === 1 && cycle.bundle));
    const batch = batched ? this.#batchCycle(cycle) : undefined;
    const svids: Promise<unknown>[] = batch ? [batch] : this.#perAsk(cycle);
    const bundle = !cycle.bundle
      ? undefined
      : batch // the batch answer carries the bundle; GET /v1/bundle only when it did not
        ? batch.then(
            (bundled) => (bundled ? undefined : this.#refreshBundle()),
            () => undefined,
          )
        : this.#trustDomain || svids.length === 0
          ? this.#refreshBundle()
          : Promise.any(svids).then(
              () => this.#refreshBundle(),
              () => undefined,
            );
    // allSettled first: no fetch is left running unobserved when one fails.
    const results = await Promise.allSettled(bundle ? [...svids, bundle] : svids);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    const refused = failed.find((r) => isRefusal(r.reason));
    if (refused) this.#refusal = refused.reason as BridgeError;
    else if (failed.length === 0 && results.length > 0) this.#refusal = undefined;
    if (strict && failed[0]) throw failed[0].reason;
    for (const r of failed) this.#warn("refresh failed", r.reason);
  }

  #perAsk(cycle: Cycle): Promise<unknown>[] {
    const svids: Promise<unknown>[] = cycle.audiences.map((a) => this.#refreshJwt(a));
    if (cycle.x509) svids.push(this.#refreshX509());
    return svids;
  }

  /**
   * Every ask of the cycle in one exchange call (all or nothing, as the exchange answers
   * it). On-demand callers of the same SVIDs meanwhile wait for it (the in-flight map).
   * Resolves true when the answer brought the bundle the cycle asked for (then held).
   */
  #batchCycle(cycle: Cycle): Promise<boolean> {
    const mine = new Map<string, Promise<unknown>>();
    const work = (async () => {
      const key = cycle.x509 ? await (this.#options.newKey ?? createWorkloadKey)() : undefined;
      const id = this.#options.spiffeId;
      let answer: Awaited<ReturnType<ExchangeClient["batch"]>>;
      try {
        answer = await this.#options.exchange.batch({
          jwt: cycle.audiences.map((audience) => ({ audience, ...(id && { spiffeId: id }) })),
          ...(key && { x509: { csrPem: key.csrPem, spki: key.spki, ...(id && { spiffeId: id }) } }),
        });
      } catch (error) {
        if (!noBatchRoute(error)) throw error;
        this.#noBatch = true;
        for (const [name, p] of mine) if (this.#inflight.get(name) === p) this.#inflight.delete(name);
        this.#log.log("info", "the exchange has no batch endpoint: one request per SVID from now on");
        return { jwt: [], x509: undefined, fallback: Promise.all(this.#perAsk(cycle)), bundled: false };
      }
      // Kept only when the cycle asked for it: an unchanged bundle is not re-published.
      // Parsed before anything is stored: an answer whose bundle does not parse stores nothing.
      const bundle = cycle.bundle && answer.bundle ? await answer.bundle() : undefined;
      const jwt = await Promise.all(answer.jwt.map((svid, i) => this.#storeJwt(cycle.audiences[i]!, svid)));
      const x509 = key && answer.x509 ? await this.#storeX509(key, answer.x509) : undefined;
      if (bundle) await this.#storeBundle(bundle);
      return { jwt, x509, fallback: undefined, bundled: bundle !== undefined };
    })();
    const shared = <T>(name: string, pick: (r: Awaited<typeof work>) => T | undefined) => {
      const p = work.then((r) => pick(r) ?? Promise.reject(new Error("not in this batch")));
      p.catch(() => undefined);
      if (!this.#inflight.has(name)) {
        this.#inflight.set(name, p);
        mine.set(name, p);
        void p
          .finally(() => this.#inflight.get(name) === p && this.#inflight.delete(name))
          .catch(() => undefined);
      }
    };
    for (const [i, a] of cycle.audiences.entries()) shared(`jwt:${jwtKey(a)}`, (r) => r.jwt[i]);
    if (cycle.x509) shared("x509", (r) => r.x509);
    return work.then(async (r) => {
      await r.fallback;
      return r.bundled;
    });
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

  #refreshDue(): Promise<void> {
    const audiences = [...this.#jwts.values()]
      .filter((h) => this.#due(h))
      .map((h) => h.value.audiences ?? [h.value.audience]);
    return this.#runCycle(
      {
        x509: this.#x509 !== undefined && this.#due(this.#x509),
        audiences,
        bundle: this.#bundle !== undefined && this.#clock.now() - this.#bundle.receivedAt > BUNDLE_MAX_AGE_MS,
      },
      false,
    );
  }

  #refreshX509(): Promise<X509SvidView> {
    return this.#once("x509", async () => {
      // A new key with every X.509-SVID, as SPIRE agents rotate them.
      const key = await (this.#options.newKey ?? createWorkloadKey)();
      const svid = await this.#options.exchange.fetchX509Svid(key.csrPem, key.spki, this.#options.spiffeId);
      return this.#storeX509(key, svid);
    });
  }

  async #storeX509(key: WorkloadKey, svid: ExchangedX509Svid): Promise<X509SvidView> {
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
    await this.#publish((l) => l.x509Changed?.(view));
    return view;
  }

  #refreshJwt(audiences: readonly string[]): Promise<JwtSvidView> {
    return this.#once(`jwt:${jwtKey(audiences)}`, async () =>
      this.#storeJwt(audiences, await this.#options.exchange.fetchJwtSvid(audiences, this.#options.spiffeId)),
    );
  }

  async #storeJwt(audiences: readonly string[], svid: ExchangedJwtSvid): Promise<JwtSvidView> {
    const key = jwtKey(audiences);
    const view: JwtSvidView = {
      spiffeId: svid.spiffeId.toString(),
      token: svid.token,
      audience: audiences.join(" "),
      audiences,
      expiresAt: svid.expiresAt,
    };
    this.#jwts.set(key, {
      value: view,
      receivedAt: this.#clock.now(),
      expiresAtMs: svid.expiresAt * 1000,
    });
    this.#trustDomain ??= svid.spiffeId.trustDomain;
    this.#log.log("info", "JWT-SVID refreshed", { audience: view.audience, expiresAt: view.expiresAt });
    await this.#publish((l) => l.jwtChanged?.(view));
    return view;
  }

  #refreshBundle(): Promise<TrustBundle<X509Authority>> {
    return this.#once("bundle", async () => {
      const td = this.#trustDomain;
      if (!td) throw new BridgeError("not_ready", "the trust domain is not known yet");
      return this.#storeBundle(await this.#options.exchange.fetchBundle(td));
    });
  }

  async #storeBundle(bundle: TrustBundle<X509Authority>): Promise<TrustBundle<X509Authority>> {
    this.#bundle = { value: bundle, receivedAt: this.#clock.now(), expiresAtMs: Number.POSITIVE_INFINITY };
    await this.#publish((l) => l.bundleChanged?.(bundle));
    return bundle;
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
    const configured = new Set(this.#options.jwtAudiences.map((a) => jwtKey([a])));
    for (const key of this.#jwts.keys())
      if (!configured.has(key)) {
        this.#jwts.delete(key);
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

  /** Every subscriber is told; one that fails is logged and does not stop the others. */
  async #publish(fn: (l: SvidListener) => Promise<void> | void): Promise<void> {
    await Promise.all(
      [...this.#listeners].map(async (l) => {
        try {
          await fn(l);
        } catch (e) {
          this.#warn("a subscriber failed (files, stream)", e);
        }
      }),
    );
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

/** One cache key per audience list; JSON, so no audience's characters can make two lists collide. */
function jwtKey(audiences: readonly string[]): string {
  return JSON.stringify(audiences);
}

function isRefusal(error: unknown): boolean {
  return error instanceof BridgeError && error.code === "exchange_rejected";
}
