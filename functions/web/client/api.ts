import { buyerToken } from "./buyer-auth.ts";
import { config } from "./config.ts";
import { theaterToken } from "./theater-auth.ts";

/**
 * API calls with fallback across the cluster. A page talks to the provider that served it first;
 * when that answers 502/503/504 or not at all, the same request (same Idempotency-Key, so a write
 * that did land is replayed, not repeated) goes to the next provider in the cluster config. Writes
 * commit on a 2-of-3 quorum, so any provider that answers can finish the job.
 */

/** Statuses that say "this provider cannot answer now", not "the request is wrong". */
const FALLBACK_STATUSES = new Set([502, 503, 504]);
/**
 * Per-attempt timeout: a purchase authorises a card, commits the sale on a quorum and gathers two
 * ticket signatures, which takes seconds on a slow link; beyond this the provider is presumed hung.
 */
const ATTEMPT_TIMEOUT_MS = 20_000;
/** Passes over all endpoints before giving up: the second covers a quorum briefly short. */
const ROUNDS = 2;
/** Longest wait between rounds, whatever Retry-After says: a person is watching. */
const ROUND_PAUSE_MAX_MS = 2_000;
/**
 * After a fallback, keep using the endpoint that answered for this long before trying this page's
 * own provider again, so a provider that is down costs one timeout, not one per call.
 */
const PREFER_MS = 30_000;

export type AuthKind = "buyer" | "theater" | "none";

export interface ApiOptions {
  method?: string;
  /** JSON body. */
  json?: unknown;
  headers?: Record<string, string>;
  idempotencyKey?: string;
  auth?: AuthKind;
  /** Try the endpoint with this index first (see `endpointCount`), e.g. to ask another provider. */
  start?: number;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { path: string; code: string; message: string }[];
  [k: string]: unknown;
}

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(describe(status, problem));
  }
}

function describe(status: number, p: Problem): string {
  const head = p.detail ?? p.title ?? `request failed (${status})`;
  const issues = (p.errors ?? []).map((e) => `${e.path || "/"}: ${e.message}`);
  return issues.length > 0 ? `${head}: ${issues.join("; ")}` : head;
}

let preferred: { index: number; until: number } | undefined;

export const endpointCount = () => config().endpoints.length;

/** Endpoint indexes in the order to try them. */
function order(start?: number): number[] {
  const n = config().endpoints.length;
  const all = Array.from({ length: n }, (_, i) => i);
  const first =
    start !== undefined
      ? start % n
      : preferred && preferred.until >= Date.now()
        ? preferred.index
        : 0;
  return [first, ...all.filter((i) => i !== first)];
}

function noteAnswered(index: number, provider: string): void {
  preferred = index === 0 ? undefined : { index, until: Date.now() + PREFER_MS };
  document.documentElement.dataset.apiVia = provider;
  const via = document.getElementById("api-via");
  if (via) via.textContent = provider;
}

async function authorization(
  kind: AuthKind,
  method: string,
  path: string,
): Promise<string | undefined> {
  if (kind === "buyer") {
    const t = buyerToken();
    return t ? `Bearer ${t}` : undefined;
  }
  if (kind === "theater") {
    // Theater tokens are bound to method, path and query, like a DPoP proof plus the query.
    const u = new URL(path, "http://x");
    return `Tessera-Theater ${await theaterToken(method, u.pathname + u.search)}`;
  }
  return undefined;
}

function retryAfterMs(res: Response | undefined): number {
  const s = Number(res?.headers.get("retry-after") ?? "1");
  return Math.min(Number.isFinite(s) && s >= 0 ? s * 1000 : 1000, ROUND_PAUSE_MAX_MS);
}

/** fetch() of `path` ("/v1/...") on the first provider that answers. */
export async function apiFetch(path: string, opts: ApiOptions = {}): Promise<Response> {
  const method = (opts.method ?? "GET").toUpperCase();
  const endpoints = config().endpoints;
  let last: Response | undefined;
  let lastError: unknown;
  for (let round = 0; round < ROUNDS; round++) {
    if (round > 0) await new Promise((r) => setTimeout(r, retryAfterMs(last)));
    for (const i of order(opts.start)) {
      const ep = endpoints[i]!;
      const headers = new Headers(opts.headers);
      if (opts.idempotencyKey) headers.set("idempotency-key", opts.idempotencyKey);
      if (opts.json !== undefined) headers.set("content-type", "application/json");
      const auth = await authorization(opts.auth ?? "none", method, path);
      if (auth) headers.set("authorization", auth);
      try {
        const res = await fetch(ep.base + path, {
          method,
          headers,
          ...(opts.json === undefined ? {} : { body: JSON.stringify(opts.json) }),
          signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
          // Credentials are in headers, never cookies: nothing ambient to send across origins.
          credentials: "omit",
        });
        if (!FALLBACK_STATUSES.has(res.status)) {
          noteAnswered(i, ep.provider);
          return res;
        }
        last = res;
      } catch (e) {
        lastError = e;
      }
    }
  }
  if (last) return last;
  throw new ApiError(0, {
    title: "No provider answered",
    detail: `no provider of the cluster could be reached (${String(lastError)})`,
  });
}

async function problemOf(res: Response): Promise<Problem> {
  try {
    const body = (await res.json()) as unknown;
    if (body && typeof body === "object") return body as Problem;
  } catch {
    // not JSON: fall through
  }
  return { status: res.status, title: res.statusText || `HTTP ${res.status}` };
}

/** JSON of a successful answer, or an ApiError carrying the problem details. */
export async function api<T>(path: string, opts: ApiOptions = {}): Promise<T> {
  const res = await apiFetch(path, opts);
  if (!res.ok) throw new ApiError(res.status, await problemOf(res));
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Like apiFetch but throws an ApiError unless the answer is 2xx or 304. */
export async function apiOk(path: string, opts: ApiOptions = {}): Promise<Response> {
  const res = await apiFetch(path, opts);
  if (!res.ok && res.status !== 304) throw new ApiError(res.status, await problemOf(res));
  return res;
}

/** A fresh Idempotency-Key for one user action (reused for every retry of that action). */
export const newIdempotencyKey = () => crypto.randomUUID();

export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
