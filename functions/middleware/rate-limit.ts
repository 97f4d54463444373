import type { MiddlewareHandler } from "hono";
import { ProblemError } from "../problem.ts";

/**
 * Per-client rate limit, a token bucket per client key held by this instance. Serverless instances
 * each keep their own buckets, so the effective cluster limit is a multiple of this one: it protects
 * each instance and the stores behind it from one noisy client, which is its purpose; an abusive
 * client spread over many instances is the edge's (WAF) job. Headers follow the IETF RateLimit
 * header fields draft: `RateLimit-Policy` and `RateLimit`.
 */
export interface RateLimitOptions {
  /** Requests allowed per window per client. */
  limit: number;
  windowS: number;
  now: () => number;
  /** Client identity: the bearer credential or the remote address. */
  keyOf: (authorization: string | undefined, ip: string | undefined) => string;
}

/** Bounded so a flood of distinct client keys cannot exhaust memory; oldest buckets go first. */
const BUCKETS_MAX = 50_000;

export function rateLimit(o: RateLimitOptions): MiddlewareHandler {
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  const refillPerMs = o.limit / (o.windowS * 1000);
  return async (c, next) => {
    const ip = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    const key = o.keyOf(c.req.header("authorization"), ip);
    const now = o.now();
    const b = buckets.get(key) ?? { tokens: o.limit, atMs: now };
    b.tokens = Math.min(o.limit, b.tokens + (now - b.atMs) * refillPerMs);
    b.atMs = now;
    buckets.delete(key);
    buckets.set(key, b);
    if (buckets.size > BUCKETS_MAX) {
      const oldest = buckets.keys().next().value;
      if (oldest !== undefined) buckets.delete(oldest);
    }
    const resetS = Math.ceil((1 - Math.min(1, b.tokens)) / refillPerMs / 1000);
    const headers = {
      "ratelimit-policy": `${o.limit};w=${o.windowS}`,
      ratelimit: `limit=${o.limit}, remaining=${Math.max(0, Math.floor(b.tokens) - 1)}, reset=${resetS}`,
    };
    if (b.tokens < 1) {
      throw new ProblemError(
        429,
        "rate-limited",
        "Too many requests",
        `at most ${o.limit} requests per ${o.windowS} s per client`,
        {},
        { ...headers, "retry-after": String(Math.max(1, resetS)) },
      );
    }
    b.tokens -= 1;
    await next();
    for (const [k, v] of Object.entries(headers)) c.header(k, v);
  };
}

/** Hash-free client key: the credential itself is a fine map key and never leaves the instance. */
export function clientKey(authorization: string | undefined, ip: string | undefined): string {
  return authorization ? `auth:${authorization.slice(-64)}` : `ip:${ip ?? "unknown"}`;
}
