/**
 * The extension's client of the bridge's exchange (contract in README, "Exchange API"):
 * POST /v1/svid/jwt, POST /v1/svid/x509, POST /v1/svid/batch, GET /v1/bundle. Each SVID request carries a
 * fresh proof bound to what it asks for. Answers are checked for shape before anything
 * is cached: a bad answer is an unavailable exchange, never a served SVID.
 */
import { BridgeError, type ErrorCode, isErrorCode } from "../../../lib/errors.js";
import type { TrustBundle, X509Authority } from "../../../lib/spiffe/bundle.js";
import { SpiffeId, type TrustDomain } from "../../../lib/spiffe/spiffe-id.js";
import { callJson, type HttpResult } from "./http-client.js";
import type { ProofBuilder } from "./proof-builder.js";

export interface ExchangedJwtSvid {
  spiffeId: SpiffeId;
  token: string;
  /** Epoch seconds. */
  expiresAt: number;
}

export interface ExchangedX509Svid {
  spiffeId: SpiffeId;
  /** PEM, leaf first. */
  certificateChainPem: string;
  expiresAt: number;
  /** PEM of the trust domain's X.509 roots. */
  bundlePem: string;
}

/** Every ask of one refresh cycle, for POST /v1/svid/batch: JWT-SVIDs for N audience sets, and an X.509-SVID. */
export interface BatchAsks {
  jwt: ReadonlyArray<{ audience: readonly string[]; spiffeId?: string }>;
  x509?: { csrPem: string; spki: Uint8Array; spiffeId?: string };
}

export interface BatchSvids {
  /** One per JWT ask, in the order asked. */
  jwt: ExchangedJwtSvid[];
  /** When an X.509-SVID was asked. */
  x509?: ExchangedX509Svid;
  /**
   * The trust domain's bundle (the answer's `spiffe_bundle`, for the answered SVIDs'
   * trust domain), parsed on the first call and once: the extension holds it at init, an
   * in-process function only when it validates (~3 ms and 0.25 MiB less at its init).
   * Rejects with `exchange_unavailable` when it does not parse. Absent from an exchange
   * that does not send it (then GET /v1/bundle).
   */
  bundle?: () => Promise<TrustBundle<X509Authority>>;
}

export interface ExchangeClient {
  fetchJwtSvid(audience: readonly string[], spiffeId?: string): Promise<ExchangedJwtSvid>;
  fetchX509Svid(csrPem: string, spki: Uint8Array, spiffeId?: string): Promise<ExchangedX509Svid>;
  /**
   * Every ask under one proof, one request. All or nothing, as the exchange answers it:
   * one refused ask rejects the whole call with `exchange_rejected` (`details.upstream`
   * is the exchange's code); a transport fault is `exchange_unavailable`.
   */
  batch(asks: BatchAsks): Promise<BatchSvids>;
  fetchBundle(trustDomain: TrustDomain): Promise<TrustBundle<X509Authority>>;
}

export interface HttpExchangeClientOptions {
  baseUrl: string;
  proofs: ProofBuilder;
  /** Per request. Short: a frozen-and-thawed sandbox may hold dead sockets. */
  timeoutMs?: number;
  /**
   * Called each time a request has been handed to the operating system: from then on the
   * caller may do local work without delaying the request (the extension's init does).
   */
  onRequestWritten?: () => void;
}

/** Exchange error codes that mean "try again later" rather than "you may not". */
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryable(error: unknown): boolean {
  return error instanceof BridgeError && error.code === "exchange_unavailable";
}

/**
 * The exchange has no POST /v1/svid/batch (a deployment older than it): it answered 404 or
 * 405. Then one request per SVID, from then on (the SVID manager, the in-process source).
 */
export function noBatchRoute(error: unknown): boolean {
  const status = (error as BridgeError | undefined)?.details?.upstreamStatus;
  return (
    error instanceof BridgeError && error.code === "exchange_rejected" && (status === 404 || status === 405)
  );
}

export class HttpExchangeClient implements ExchangeClient {
  readonly #base: string;
  readonly #proofs: ProofBuilder;
  readonly #timeoutMs: number;
  readonly #onWritten: (() => void) | undefined;

  constructor(options: HttpExchangeClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, "");
    this.#proofs = options.proofs;
    this.#timeoutMs = options.timeoutMs ?? 3_000;
    this.#onWritten = options.onRequestWritten;
  }

  async fetchJwtSvid(audience: readonly string[], spiffeId?: string): Promise<ExchangedJwtSvid> {
    const proof = await this.#proofs.proofFor({ kind: "jwt", audience, ...(spiffeId && { spiffeId }) });
    const body = await this.#call("POST", "/v1/svid/jwt", {
      audience: [...audience],
      ...(spiffeId && { spiffe_id: spiffeId }),
      proof,
    });
    return jwtSvidOf(body, spiffeId);
  }

  async fetchX509Svid(csrPem: string, _spki: Uint8Array, spiffeId?: string): Promise<ExchangedX509Svid> {
    const proof = await this.#proofs.proofFor({ kind: "x509", csr: csrPem, ...(spiffeId && { spiffeId }) });
    const body = await this.#call("POST", "/v1/svid/x509", {
      csr: csrPem,
      ...(spiffeId && { spiffe_id: spiffeId }),
      proof,
    });
    return x509SvidOf(body, spiffeId);
  }

  async batch(asks: BatchAsks): Promise<BatchSvids> {
    const { jwt, x509 } = asks;
    const proof = await this.#proofs.proofForBatch({
      jwt: jwt.map((a) => ({ audience: a.audience, ...(a.spiffeId && { spiffeId: a.spiffeId }) })),
      ...(x509 && { x509: { csr: x509.csrPem, ...(x509.spiffeId && { spiffeId: x509.spiffeId }) } }),
    });
    const body = (await this.#call("POST", "/v1/svid/batch", {
      jwt: jwt.map((a) => ({ audience: [...a.audience], ...(a.spiffeId && { spiffe_id: a.spiffeId }) })),
      ...(x509 && { x509: { csr: x509.csrPem, ...(x509.spiffeId && { spiffe_id: x509.spiffeId }) } }),
      proof,
    })) as { jwt?: unknown; x509?: unknown; spiffe_bundle?: unknown } | undefined;
    const answers = body?.jwt ?? [];
    if (!Array.isArray(answers) || answers.length !== jwt.length)
      unavailable("the exchange's batch answer does not have one JWT answer per ask");
    const svids: BatchSvids = {
      jwt: jwt.map((a, i) => jwtSvidOf(answers[i], a.spiffeId)),
      ...(x509 && { x509: x509SvidOf(body?.x509, x509.spiffeId) }),
    };
    const domain = (svids.jwt[0] ?? svids.x509)?.spiffeId.trustDomain;
    const document = body?.spiffe_bundle;
    if (document !== undefined && domain) {
      let parsed: Promise<TrustBundle<X509Authority>> | undefined;
      svids.bundle = () => (parsed ??= parseBundle(domain, document));
    }
    return svids;
  }

  async fetchBundle(trustDomain: TrustDomain): Promise<TrustBundle<X509Authority>> {
    return parseBundle(trustDomain, await this.#call("GET", "/v1/bundle"));
  }

  async #call(method: string, path: string, payload?: unknown): Promise<unknown> {
    let res: HttpResult;
    try {
      res = await callJson(`${this.#base}${path}`, {
        method,
        body: payload,
        timeoutMs: this.#timeoutMs,
        ...(this.#onWritten && { onWritten: this.#onWritten }),
      });
    } catch (cause) {
      throw new BridgeError("exchange_unavailable", `the exchange is unreachable (${path})`, { cause });
    }
    const ok = res.status >= 200 && res.status < 300;
    if (ok && res.json === undefined)
      throw new BridgeError("exchange_unavailable", `the exchange sent no JSON (HTTP ${res.status})`);
    if (ok) return res.json;
    const { error, message } = (res.json ?? {}) as { error?: unknown; message?: unknown };
    const retryable = RETRYABLE_STATUS.has(res.status) || res.status < 400;
    // The exchange's own code when it sent one we know; otherwise our code for what happened
    // (never a code made up from the status: clients match on ErrorCode).
    const upstream: ErrorCode = isErrorCode(error)
      ? error
      : retryable
        ? "exchange_unavailable"
        : "exchange_rejected";
    const text = typeof message === "string" ? message.slice(0, 300) : "";
    if (retryable)
      throw new BridgeError("exchange_unavailable", `the exchange answered ${res.status} ${upstream}`, {
        details: { upstream, upstreamStatus: res.status },
      });
    throw new BridgeError("exchange_rejected", `the exchange refused: ${upstream}${text && `: ${text}`}`, {
      expose: true,
      details: { upstream, upstreamStatus: res.status },
    });
  }
}

function jwtSvidOf(answer: unknown, spiffeId: string | undefined): ExchangedJwtSvid {
  const svid = pickSvid(answer, spiffeId);
  if (typeof svid.token !== "string" || svid.token.split(".").length !== 3)
    unavailable("the exchange sent a JWT-SVID that is not a compact JWS");
  return { spiffeId: svidId(svid), token: svid.token, expiresAt: expiry(svid) };
}

function x509SvidOf(answer: unknown, spiffeId: string | undefined): ExchangedX509Svid {
  const svid = pickSvid(answer, spiffeId);
  if (
    typeof svid.certificate_chain !== "string" ||
    !svid.certificate_chain.includes("-----BEGIN CERTIFICATE")
  )
    unavailable("the exchange sent an X.509-SVID without a PEM certificate chain");
  const bundle = (answer as { bundle?: unknown }).bundle;
  if (typeof bundle !== "string" || !bundle.includes("-----BEGIN CERTIFICATE"))
    unavailable("the exchange sent no X.509 bundle");
  return {
    spiffeId: svidId(svid),
    certificateChainPem: svid.certificate_chain,
    expiresAt: expiry(svid),
    bundlePem: bundle,
  };
}

/** A bundle from the exchange, its certificates read by node:crypto; one that does not parse is an unavailable exchange. */
async function parseBundle(trustDomain: TrustDomain, document: unknown): Promise<TrustBundle<X509Authority>> {
  // Loaded on first use: the bundle parser (jose) is much of the in-process client's
  // weight, and a function that only gets JWT-SVIDs never needs it.
  const { TrustBundle, readDerCertificate } = await import("../../../lib/spiffe/bundle.js");
  try {
    return await TrustBundle.parseWith(trustDomain, document, readDerCertificate);
  } catch (cause) {
    throw new BridgeError("exchange_unavailable", "the exchange sent a bundle that does not parse", {
      cause,
    });
  }
}

function unavailable(message: string): never {
  throw new BridgeError("exchange_unavailable", message);
}

interface WireSvid {
  spiffe_id?: unknown;
  token?: unknown;
  certificate_chain?: unknown;
  expires_at?: unknown;
}

function pickSvid(body: unknown, spiffeId: string | undefined): WireSvid {
  const svids = (body as { svids?: unknown } | undefined)?.svids;
  if (!Array.isArray(svids) || svids.length === 0) unavailable("the exchange's answer has no svids");
  const chosen = spiffeId ? svids.find((s) => (s as WireSvid)?.spiffe_id === spiffeId) : svids[0];
  if (typeof chosen !== "object" || chosen === null)
    unavailable(spiffeId ? `the exchange sent no SVID for ${spiffeId}` : "the exchange sent an empty SVID");
  return chosen as WireSvid;
}

function svidId(svid: WireSvid): SpiffeId {
  const parsed = typeof svid.spiffe_id === "string" ? SpiffeId.tryParse(svid.spiffe_id) : undefined;
  if (!parsed?.ok) unavailable("the exchange sent an SVID without a valid spiffe_id");
  return parsed.id;
}

function expiry(svid: WireSvid): number {
  if (!Number.isSafeInteger(svid.expires_at) || (svid.expires_at as number) <= 0)
    unavailable("the exchange sent an SVID without an integer expires_at");
  return svid.expires_at as number;
}
