import { problemOf, TesseraNetworkError } from "./problem.ts";

/**
 * Statuses that say "this provider cannot answer now", where another provider may: the client
 * moves on to the next endpoint. 503 is also the API's "quorum short / outcome unknown", which a
 * retry with the same Idempotency-Key resolves on any provider.
 */
export const FAILOVER_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** With one endpoint (a geo-routed name) a failed call is still retried this many times. */
export const SINGLE_ENDPOINT_ATTEMPTS = 2;

/** Pause before retrying the same endpoint, so a brief blip has time to pass. */
export const SAME_ENDPOINT_BACKOFF_MS = 250;

export type Credentials = (req: {
  method: string;
  /** Path and query string, as sent. */
  path: string;
}) => string | undefined | Promise<string | undefined>;

export interface RequestSpec {
  readonly method: string;
  /** Path and query, e.g. "/v1/events?limit=10". */
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Sent as Idempotency-Key; the SAME on every attempt of this call. */
  readonly idempotencyKey?: string;
  /** The Authorization header value for an attempt (called per attempt: tokens may expire). */
  readonly auth?: Credentials;
  /** Statuses that are answers, not errors (e.g. 304). */
  readonly accept?: readonly number[];
}

export interface TransportOptions {
  readonly endpoints: readonly string[];
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Sends one logical call, failing over across the endpoints: a network error or 502/503/504 moves
 * to the next endpoint with the same body and Idempotency-Key, so a write whose reply was lost is
 * answered (replayed) rather than repeated. The endpoint that last answered is tried first next time.
 */
export class Transport {
  private preferred = 0;
  private readonly endpoints: string[];
  private readonly doFetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(o: TransportOptions) {
    if (o.endpoints.length === 0) throw new RangeError("at least one endpoint is needed");
    this.endpoints = o.endpoints.map((e) => e.replace(/\/+$/, ""));
    this.doFetch = o.fetch ?? ((input, init) => fetch(input, init));
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async send(spec: RequestSpec): Promise<Response> {
    const n = this.endpoints.length;
    const attempts = n > 1 ? n : SINGLE_ENDPOINT_ATTEMPTS;
    const causes: unknown[] = [];
    let lastFailure: Response | undefined;
    for (let i = 0; i < attempts; i++) {
      const at = (this.preferred + i) % n;
      if (i >= n) await this.sleep(SAME_ENDPOINT_BACKOFF_MS);
      const headers: Record<string, string> = { accept: "application/json", ...spec.headers };
      if (spec.idempotencyKey) headers["idempotency-key"] = spec.idempotencyKey;
      // Theatre tokens bind the path and the query string (docs/identity.md).
      const auth = await spec.auth?.({ method: spec.method, path: spec.path });
      if (auth) headers.authorization = auth;
      if (spec.body !== undefined) headers["content-type"] = "application/json";
      let r: Response;
      try {
        r = await this.doFetch(`${this.endpoints[at]}${spec.path}`, {
          method: spec.method,
          headers,
          ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
        });
      } catch (e) {
        causes.push(e);
        continue;
      }
      if (FAILOVER_STATUSES.has(r.status) && i < attempts - 1) {
        await r.body?.cancel().catch(() => undefined);
        causes.push(new Error(`${this.endpoints[at]}: HTTP ${r.status}`));
        continue;
      }
      if (FAILOVER_STATUSES.has(r.status)) {
        lastFailure = r;
        break;
      }
      this.preferred = at;
      if (r.ok || spec.accept?.includes(r.status)) return r;
      throw await problemOf(r);
    }
    if (lastFailure) throw await problemOf(lastFailure);
    throw new TesseraNetworkError(
      `${spec.method} ${spec.path}: no endpoint answered (${attempts} attempts)`,
      causes,
    );
  }

  async json<T>(spec: RequestSpec): Promise<T> {
    const r = await this.send(spec);
    return (await r.json()) as T;
  }
}

/** A fresh Idempotency-Key for one logical call. */
export const newIdempotencyKey = (): string => crypto.randomUUID();
