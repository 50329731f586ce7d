/**
 * StsCallerVerifier: the exchange's CallerVerifier. A proof is checked against every
 * local rule, spent once in the ReplayCache, forwarded unchanged to the STS endpoint
 * the bridge chose for the proof's region, and STS's answer becomes the caller's
 * identity. Every failure is a BridgeError: 4xx for the caller's fault, 503 when STS
 * or the replay store cannot answer, never a 500.
 */
import { createHash } from "node:crypto";
import { type Clock, systemClock } from "../clock.js";
import { BridgeError } from "../errors.js";
import type { CallerIdentity, CallerVerifier, VerifyProofRequest } from "../ports/caller-verifier.js";
import type { ReplayCache } from "../ports/replay-cache.js";
import { callerIdentityFrom } from "./caller-arn.js";
import { DEFAULT_BINDING_HEADER, DEFAULT_SERVER_ID_HEADER, NONCE_HEADER } from "./proof-format.js";
import { type CheckedProof, checkProof, type ProofRules } from "./proof-rules.js";
import {
  GLOBAL_STS_HOST,
  GLOBAL_STS_REGION,
  isRegionName,
  partitionOfRegion,
  regionalStsHost,
} from "./sts-endpoints.js";
import { StsForwarder } from "./sts-forwarder.js";
import { STS_BUSY_RETRY_AFTER_SECONDS, StsGuard } from "./sts-guard.js";
import { parseGetCallerIdentityResponse, parseStsError } from "./sts-response.js";

export interface StsCallerVerifierOptions {
  /** This bridge's identifier (e.g. its issuer URL); proofs must carry it, signed. */
  serverIdValue: string;
  /** @default "x-svid-bridge-server-id" */
  serverIdHeader?: string;
  /** @default "x-svid-bridge-binding" */
  bindingHeader?: string;
  /** Regions whose STS the bridge will ask. The STS URL is built from this list, never from the caller. */
  regions: readonly string[];
  /**
   * The exchange's own region: when set, a proof scoped to any other region is refused,
   * whatever `regions` says, so deployments in other regions that share this server ID
   * cannot spend a proof here too (issue 14, fault 9). Must be one of `regions`.
   */
  ownRegion?: string;
  /** Also accept proofs for sts.amazonaws.com (scope us-east-1) when us-east-1 is allowed. @default true */
  allowGlobalEndpoint?: boolean;
  /** @default false */
  allowIamUsers?: boolean;
  /** How old X-Amz-Date may be. STS allows 15 minutes; the bridge is stricter. @default 120 */
  maxAgeSeconds?: number;
  /** How far X-Amz-Date may be ahead of the bridge's clock. @default 30 */
  maxAheadSeconds?: number;
  /** @default 16384 */
  maxProofBytes?: number;
  /** @default 8192 */
  maxHeaderBytes?: number;
  /** @default 16 */
  maxHeaders?: number;
  replayCache: ReplayCache;
  clock?: Clock;
  /**
   * Base URL to dial for an endpoint. Default `https://<host>`. Tests and `svid-bridge
   * dev` point it at a local STS (`http://127.0.0.1:port`); the Host header sent is
   * still the real STS host, because that is what the caller signed.
   */
  endpointFor?: (region: string, host: string) => string;
  /** Per attempt. @default 3000 */
  timeoutMs?: number;
  /** Further attempts after a network failure (never after an answer). @default 2 */
  retries?: number;
  /** @default 65536 */
  maxResponseBytes?: number;
  /** Concurrent STS calls per sandbox before 429 sts_busy (lib/proof/sts-guard.ts). @default 32 */
  maxConcurrentStsCalls?: number;
  /** Seconds credentials STS refused as unknown or expired are refused locally. @default 60 */
  refusedCredentialsTtlSeconds?: number;
}

// STS answers these with 4xx, but they say "ask again later", not "your proof is bad".
const STS_BUSY = new Set(["Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable"]);

function configError(message: string): never {
  throw new BridgeError("config_invalid", `StsCallerVerifier: ${message}`);
}

/** A limit that 0 would turn into "refuse everything" (a proof of 0 bytes, 0 s old): at least 1. */
function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) configError(`${name} must be a positive integer`);
  return v;
}

/** A count or allowance where 0 means "none" (no retries, no clock lead, no refusal memory). */
function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0) configError(`${name} must be a non-negative integer`);
  return v;
}

export class StsCallerVerifier implements CallerVerifier {
  readonly rules: ProofRules;
  readonly #replayCache: ReplayCache;
  readonly #clock: Clock;
  readonly #allowIamUsers: boolean;
  readonly #endpointFor: (region: string, host: string) => string;
  readonly #forwarder: StsForwarder;
  readonly #guard: StsGuard;

  constructor(options: StsCallerVerifierOptions) {
    if (options.serverIdValue.length === 0 || !/^[\x20-\x7e]+$/.test(options.serverIdValue))
      configError("serverIdValue must be non-empty printable ASCII");
    const header = (name: string | undefined, fallback: string, what: string) => {
      const h = (name ?? fallback).toLowerCase();
      if (!/^x-[a-z0-9-]{1,62}$/.test(h) || h.startsWith("x-amz-"))
        configError(`${what} must be an x- header`);
      return h;
    };
    if (options.regions.length === 0) configError("regions must name at least one region");
    const endpoints = new Map<string, string>();
    for (const region of options.regions) {
      if (!isRegionName(region)) configError(`not a region: ${JSON.stringify(region)}`);
      endpoints.set(regionalStsHost(region), region);
    }
    if (options.ownRegion !== undefined && !options.regions.includes(options.ownRegion))
      configError(`ownRegion ${JSON.stringify(options.ownRegion)} must be one of regions`);
    if (options.allowGlobalEndpoint !== false && options.regions.includes(GLOBAL_STS_REGION))
      endpoints.set(GLOBAL_STS_HOST, GLOBAL_STS_REGION);
    this.rules = {
      serverIdHeader: header(options.serverIdHeader, DEFAULT_SERVER_ID_HEADER, "serverIdHeader"),
      serverIdValue: options.serverIdValue,
      bindingHeader: header(options.bindingHeader, DEFAULT_BINDING_HEADER, "bindingHeader"),
      endpoints,
      regions: new Set(options.regions),
      ...(options.ownRegion !== undefined && { ownRegion: options.ownRegion }),
      maxAgeSeconds: positive(options.maxAgeSeconds, 120, "maxAgeSeconds"),
      maxAheadSeconds: nonNegative(options.maxAheadSeconds, 30, "maxAheadSeconds"),
      maxProofBytes: positive(options.maxProofBytes, 16_384, "maxProofBytes"),
      maxHeaderBytes: positive(options.maxHeaderBytes, 8_192, "maxHeaderBytes"),
      maxHeaders: positive(options.maxHeaders, 16, "maxHeaders"),
    };
    if (
      this.rules.serverIdHeader === this.rules.bindingHeader ||
      this.rules.serverIdHeader === NONCE_HEADER ||
      this.rules.bindingHeader === NONCE_HEADER
    )
      configError(`serverIdHeader, bindingHeader and ${NONCE_HEADER} must differ`);
    this.#replayCache = options.replayCache;
    this.#clock = options.clock ?? systemClock;
    this.#allowIamUsers = options.allowIamUsers ?? false;
    this.#endpointFor = options.endpointFor ?? ((_region, host) => `https://${host}`);
    this.#forwarder = new StsForwarder({
      timeoutMs: positive(options.timeoutMs, 3_000, "timeoutMs"),
      retries: nonNegative(options.retries, 2, "retries"),
      maxResponseBytes: positive(options.maxResponseBytes, 65_536, "maxResponseBytes"),
    });
    this.#guard = new StsGuard({
      maxConcurrent: Math.max(1, nonNegative(options.maxConcurrentStsCalls, 32, "maxConcurrentStsCalls")),
      negativeTtlSeconds: nonNegative(
        options.refusedCredentialsTtlSeconds,
        60,
        "refusedCredentialsTtlSeconds",
      ),
      maxNegativeEntries: 10_000,
      clock: this.#clock,
    });
  }

  // What checkLocally proved, so verify of the same request does not run the rules again.
  readonly #checked = new WeakMap<VerifyProofRequest, CheckedProof>();

  checkLocally(request: VerifyProofRequest): void {
    this.#checked.set(request, this.#check(request));
  }

  #check(request: VerifyProofRequest): CheckedProof {
    return checkProof(request.proof, request.expectedBinding, this.rules, this.#clock.now());
  }

  /**
   * The replay write and the STS call run in parallel: GetCallerIdentity has no side
   * effect, so asking STS before the proof is spent reveals nothing the caller did not
   * already know, and STS's answer is used only once the conditional write has
   * succeeded. A replayed proof is refused whatever STS said and whenever it said it.
   */
  async verify(request: VerifyProofRequest): Promise<CallerIdentity> {
    const checked = this.#checked.get(request) ?? this.#check(request);
    this.#guard.assertNotRefused(checked);
    return this.#guard.withSlot(() => this.#ask(checked));
  }

  /** Spends the proof and asks STS in parallel: what the guard bounds. */
  async #ask(checked: CheckedProof): Promise<CallerIdentity> {
    const url = new URL(this.#endpointFor(checked.region, checked.host));
    const asked = this.#forwarder.forward(url, checked.headers, checked.body);
    // Settled here so a failing STS call never surfaces as an unhandled rejection while the spend is pending.
    const answered = asked.then(
      (answer) => ({ answer }),
      (error: unknown) => ({ error }),
    );
    try {
      await this.#spend(checked);
    } catch (error) {
      // No call outlives the request: Lambda may freeze the sandbox as soon as it answers.
      await answered;
      throw error;
    }
    const outcome = await answered;
    if ("error" in outcome) throw outcome.error;
    return this.#identityFrom(checked, outcome.answer);
  }

  #identityFrom(checked: CheckedProof, answer: { status: number; body: string }): CallerIdentity {
    if (answer.status === 200) {
      const identity = callerIdentityFrom(parseGetCallerIdentityResponse(answer.body), {
        allowIamUsers: this.#allowIamUsers,
      });
      if (identity.partition !== partitionOfRegion(checked.region))
        throw new BridgeError(
          "proof_rejected",
          "STS's answer names another partition than the proof's region",
          {
            details: { rule: "sts-answer", reason: "partition" },
          },
        );
      return identity;
    }
    const sts = parseStsError(answer.body);
    if (answer.status >= 400 && answer.status < 500 && !(sts.code && STS_BUSY.has(sts.code))) {
      this.#guard.noteRefusal(checked, sts.code);
      throw new BridgeError("proof_rejected", `STS refused the proof${sts.code ? ` (${sts.code})` : ""}`, {
        details: { rule: "sts", stsStatus: answer.status, stsCode: sts.code },
      });
    }
    throw new BridgeError(
      "sts_unavailable",
      `STS answered ${answer.status}${sts.code ? ` (${sts.code})` : ""}`,
      {
        details: {
          stsStatus: answer.status,
          stsCode: sts.code,
          retryAfterSeconds: STS_BUSY_RETRY_AFTER_SECONDS,
        },
      },
    );
  }

  /** Releases pooled connections to STS. */
  close(): void {
    this.#forwarder.close();
  }

  /**
   * Records the proof before STS sees it: the conditional write is the one gate two
   * racing copies cannot both pass. Kept until the freshness rule would refuse it anyway.
   */
  async #spend(checked: CheckedProof): Promise<void> {
    const key = `sigv4:${createHash("sha256").update(checked.signature).digest("base64url")}`;
    const expiresAt = Math.ceil((checked.signedAt + this.rules.maxAgeSeconds * 1000) / 1000) + 1;
    let fresh: boolean;
    try {
      fresh = await this.#replayCache.remember(key, expiresAt);
    } catch (error) {
      if (error instanceof BridgeError) throw error;
      throw new BridgeError("store_unavailable", "the replay cache could not record the proof", {
        cause: error,
      });
    }
    if (!fresh)
      throw new BridgeError(
        "proof_replayed",
        "this proof was already used: make a fresh one for each request",
        {
          details: { rule: "replay" },
        },
      );
  }
}
