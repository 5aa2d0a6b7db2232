/**
 * The PURAIFY control plane from TypeScript: types generated from the contract (`schema.d.ts`, by
 * openapi-typescript from `GET /openapi.json`), and the Python SDK's behaviours: retries with backoff that
 * honour `Retry-After`, timeouts, typed errors carrying the envelope, an idempotency key on every POST,
 * check / require / checkMany, ingest with batching, and the resolved configuration polled by ETag.
 */

import {
  ActionDeniedError,
  ConnectionError,
  PuraifyError,
  TimeoutError,
  apiError,
  type ErrorEnvelope,
} from "./errors.js";
import type { components, operations, paths } from "./schema.js";

export type Schemas = components["schemas"];
export type { components, operations, paths };

/** The API version this SDK was built for: sent as `Puraify-Version` on every request (docs/api.md). */
export const API_VERSION = "2026-12-07" satisfies NonNullable<
  operations["checkAction"]["parameters"]["header"]
>["Puraify-Version"];

/** The most events one `POST /monitoring/logs` carries (the server's `MAX_BATCH`). */
export const MAX_INGEST_BATCH = 500;
/** The most checks one `POST /actions/check` carries. */
export const MAX_CHECK_BATCH = 25;

export interface ClientOptions {
  /** e.g. `http://127.0.0.1:3000` (`make run`). */
  baseUrl: string;
  engineId: string;
  engineKey: string;
  /** One attempt's time limit, in milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Retries after the first attempt, for answers worth retrying (default 3). */
  maxRetries?: number;
  /** The first backoff, doubled each retry with full jitter (default 200 ms), capped at `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Another `fetch` (default: the global one). */
  fetch?: typeof fetch;
  /** Another version to be served in (default: `API_VERSION`, the one these types describe). */
  apiVersion?: string;
  /** Idempotency keys (default: `crypto.randomUUID`). */
  newKey?: () => string;
  /** How to wait (tests); default: `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | null | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** The POST's idempotency key (default: a fresh one, kept across this call's retries). */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** Statuses worth another try: throttled, or the store or gateway briefly unavailable. */
const RETRYABLE = new Set([429, 502, 503, 504]);

export type CheckInput = Schemas["ActionCheckRequest"] | [platform: string, action: string];
export type LogEvent = Schemas["LogEvent"];
export type ResolvedConfig = Schemas["ResolvedView"] & { etag: string | null };

export class PuraifyClient {
  readonly baseUrl: string;
  readonly apiVersion: string;
  private readonly options: Required<Omit<ClientOptions, "apiVersion">>;

  constructor(options: ClientOptions) {
    if (!/^https?:\/\//.test(options.baseUrl)) throw new PuraifyError("baseUrl must start with http:// or https://");
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.apiVersion = options.apiVersion ?? API_VERSION;
    this.options = {
      timeoutMs: 10_000,
      maxRetries: 3,
      backoffMs: 200,
      maxBackoffMs: 10_000,
      fetch: globalThis.fetch.bind(globalThis),
      newKey: () => crypto.randomUUID(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
  }

  /** Any route: typed by the caller. Retries, timeouts, idempotency keys and errors as every method. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Answer<T>> {
    const headers: Record<string, string> = {
      Accept: "application/json",
      "Puraify-Version": this.apiVersion,
      "X-Engine-ID": this.options.engineId,
      "X-Engine-Key": this.options.engineKey,
      ...options.headers,
    };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (method === "POST") headers["Idempotency-Key"] = options.idempotencyKey ?? this.options.newKey();
    const url = this.baseUrl + path + queryString(options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    for (let attempt = 0; ; attempt++) {
      let failure: PuraifyError;
      let wait = 0;
      try {
        const response = await this.attempt(url, { method, headers, body, signal: options.signal });
        if (response.status < 400) return { status: response.status, body: parse<T>(response.text), headers: response.headers };
        const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
        const envelope = safeParse<ErrorEnvelope>(response.text);
        const error = apiError(response.status, envelope, retryAfter, `${method} ${path} answered ${response.status}`);
        // 409 idempotency_in_progress: the first attempt is still running, its answer comes with a retry
        if (!RETRYABLE.has(response.status) && error.code !== "idempotency_in_progress") throw error;
        failure = error;
        wait = (retryAfter ?? 0) * 1000;
      } catch (error) {
        // a timeout or a failed connection is retried: a POST carries the same idempotency key each time
        if (!(error instanceof TimeoutError || error instanceof ConnectionError)) throw error;
        failure = error;
      }
      if (attempt >= this.options.maxRetries || options.signal?.aborted) throw failure;
      const backoff = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** attempt) * Math.random();
      await this.options.sleep(Math.min(this.options.maxBackoffMs, Math.max(wait, backoff)));
    }
  }

  /** One exchange, its body read within the same time limit. */
  private async attempt(
    url: string,
    init: RequestInit & { signal?: AbortSignal | undefined },
  ): Promise<{ status: number; headers: Headers; text: string }> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      const response = await this.options.fetch(url, { ...init, signal });
      return { status: response.status, headers: response.headers, text: await response.text() };
    } catch (error) {
      if (timeout.aborted) throw new TimeoutError(`${init.method} ${url}: no answer in ${this.options.timeoutMs} ms`);
      if (init.signal?.aborted) throw error;
      throw new ConnectionError(`${init.method} ${url}: ${(error as Error).message}`, { cause: error });
    }
  }

  // --- checks ---------------------------------------------------------------------------------------

  /** May this engine do `action` on `platform` now? A denial is an answer (`allowed: false`), not an error. */
  async check(input: CheckInput): Promise<Schemas["ActionCheckResponse"]> {
    const answer = await this.request<Schemas["ActionCheckResponse"]>("POST", "/actions/check", { body: checkBody(input) });
    return answer.body;
  }

  /** `check`, throwing `ActionDeniedError` when denied. */
  async require(input: CheckInput): Promise<Schemas["ActionCheckResponse"]> {
    const result = await this.check(input);
    if (!result.allowed) throw new ActionDeniedError(result);
    return result;
  }

  /** Many checks, answered in order, in batches of 25 (one request each). */
  async checkMany(inputs: CheckInput[]): Promise<Schemas["ActionCheckResponse"][]> {
    const results: Schemas["ActionCheckResponse"][] = [];
    for (let start = 0; start < inputs.length; start += MAX_CHECK_BATCH) {
      const checks = inputs.slice(start, start + MAX_CHECK_BATCH).map(checkBody);
      const answer = await this.request<Schemas["ActionCheckBatchResponse"]>("POST", "/actions/check", { body: { checks } });
      results.push(...answer.body.results);
    }
    return results;
  }

  // --- monitoring -----------------------------------------------------------------------------------

  /** Store events, in batches of at most 500 (each its own request and idempotency key). */
  async ingest(events: LogEvent[], { batchSize = MAX_INGEST_BATCH } = {}): Promise<Schemas["LogIngestResponse"]> {
    const size = Math.max(1, Math.min(batchSize, MAX_INGEST_BATCH));
    const total: Schemas["LogIngestResponse"] = { accepted: 0, rejected: [] };
    for (let start = 0; start < events.length; start += size) {
      const answer = await this.request<Schemas["LogIngestResponse"]>("POST", "/monitoring/logs", {
        body: { events: events.slice(start, start + size) },
      });
      total.accepted += answer.body.accepted;
      // a rejected event's index, counted in the whole list rather than in its batch
      total.rejected.push(
        ...answer.body.rejected.map((r) => (typeof r.index === "number" ? { ...r, index: r.index + start } : r)),
      );
    }
    return total;
  }

  /** One page of a project's events (`next_cursor` for the next). */
  async logs(query: operations["queryLogs"]["parameters"]["query"]): Promise<Schemas["QueryLogsResponse"]> {
    return (await this.request<Schemas["QueryLogsResponse"]>("GET", "/monitoring/logs", { query })).body;
  }

  // --- environments ---------------------------------------------------------------------------------

  /**
   * The configuration an environment runs now. With the last answer's `etag` as `ifNoneMatch`, `null`
   * means nothing changed (a 304: nothing sent but the tag).
   */
  async resolved(projectId: string, environment: string, ifNoneMatch?: string | null): Promise<ResolvedConfig | null> {
    const path = `/env/${encodeURIComponent(projectId)}/${encodeURIComponent(environment)}/resolved`;
    const headers: Record<string, string> = ifNoneMatch ? { "If-None-Match": ifNoneMatch } : {};
    const answer = await this.request<Schemas["ResolvedView"]>("GET", path, { headers });
    if (answer.status === 304) return null;
    return { ...answer.body, etag: answer.headers.get("etag") };
  }

  /**
   * Poll the resolved configuration every `intervalMs`, yielding the first answer and then each change.
   * Stop by breaking out of the loop or aborting `signal`.
   */
  async *watchResolved(
    projectId: string,
    environment: string,
    { intervalMs = 5000, signal }: { intervalMs?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<ResolvedConfig> {
    let etag: string | null = null;
    while (!signal?.aborted) {
      const found = await this.resolved(projectId, environment, etag);
      if (found !== null) {
        etag = found.etag;
        yield found;
      }
      if (signal?.aborted) return;
      await this.options.sleep(intervalMs);
    }
  }

  // --- engines and config ---------------------------------------------------------------------------

  async validate(): Promise<Schemas["EngineValidateResponse"]> {
    return (await this.request<Schemas["EngineValidateResponse"]>("POST", "/engines/validate")).body;
  }

  async registerEngine(body: Schemas["EngineRegisterRequest"]): Promise<Schemas["EngineRegisterResponse"]> {
    return (await this.request<Schemas["EngineRegisterResponse"]>("POST", "/engines/register", { body })).body;
  }

  async listEngines(): Promise<Schemas["EngineListResponse"]> {
    return (await this.request<Schemas["EngineListResponse"]>("GET", "/engines")).body;
  }

  async globalConfig(): Promise<Schemas["GlobalConfigResponse"]> {
    return (await this.request<Schemas["GlobalConfigResponse"]>("GET", "/config/global")).body;
  }
}

function checkBody(input: CheckInput): Schemas["ActionCheckRequest"] {
  return Array.isArray(input) ? { platform: input[0], action_type: input[1] } : input;
}

function queryString(query: RequestOptions["query"]): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

function parse<T>(text: string): T {
  return (text ? JSON.parse(text) : null) as T;
}

function safeParse<T>(text: string): T | null {
  try {
    return parse<T>(text);
  } catch {
    return null;
  }
}

/** `Retry-After` in seconds: a number of seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}
