import type { Context, MiddlewareHandler } from "hono";
import { ProblemError } from "../problem.ts";

/**
 * Per-client rate limits: a token bucket per client held by this instance. Serverless instances
 * each keep their own buckets, so the effective cluster limit is a multiple of these: they protect
 * each instance and the stores behind it from one noisy client; an abusive client spread over many
 * instances is the edge's (WAF) job. Headers follow the IETF RateLimit header fields draft:
 * `RateLimit-Policy` and `RateLimit`.
 *
 * Who the client is: every request is first charged to the client address the PLATFORM reports
 * (never a header the client could set; see AppDeps.clientAddress). A request that proves an
 * identity (a verified buyer token, theatre token or peer signature) is then charged to that
 * identity instead and its address charge is given back, so buyers behind one NAT do not share a
 * budget, while credentials that fail verification, or that no route checks, cost the address.
 */
export interface RatePolicy {
  /** Requests allowed per window. */
  readonly limit: number;
  readonly windowS: number;
}

export type IdentityKind = "buyer" | "theater" | "peer";
export type RateLimits = Readonly<Record<"address" | IdentityKind, RatePolicy>>;

/**
 * Generous for a person, a brake for a script hammering one instance. Theatres get more: a door
 * with many scanners checks in through one licence. Peers are the other providers' coordinators,
 * whose calls multiply every buyer's (about six per committed seat).
 */
export const RATE_LIMITS: RateLimits = {
  address: { limit: 600, windowS: 60 },
  buyer: { limit: 600, windowS: 60 },
  theater: { limit: 3_000, windowS: 60 },
  peer: { limit: 60_000, windowS: 60 },
};

/** Bounded so a flood of distinct client keys cannot exhaust memory; oldest buckets go first. */
const BUCKETS_MAX = 50_000;

interface Verdict {
  readonly ok: boolean;
  readonly headers: Record<string, string>;
  readonly retryAfterS: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(private readonly now: () => number) {}

  /** Takes one request from `key`'s bucket (refused, and nothing taken, when it is empty). */
  take(key: string, p: RatePolicy): Verdict {
    const b = this.refill(key, p);
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    const perMs = p.limit / (p.windowS * 1000);
    const resetS = Math.ceil((1 - Math.min(1, b.tokens)) / perMs / 1000);
    return {
      ok,
      retryAfterS: Math.max(1, resetS),
      headers: {
        "ratelimit-policy": `${p.limit};w=${p.windowS}`,
        ratelimit: `limit=${p.limit}, remaining=${Math.max(0, Math.floor(b.tokens))}, reset=${resetS}`,
      },
    };
  }

  /** Gives back a request taken from `key` (its cost moved to a verified identity). */
  refund(key: string, p: RatePolicy): void {
    const b = this.buckets.get(key);
    if (b) b.tokens = Math.min(p.limit, b.tokens + 1);
  }

  private refill(key: string, p: RatePolicy) {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: p.limit, atMs: now };
    // Only time that moved forward refills: a clock stepped back (NTP, a VM migration) must not
    // drain the bucket, and the step back simply becomes the new origin.
    const elapsed = Math.max(0, now - b.atMs);
    b.tokens = Math.min(p.limit, b.tokens + (elapsed * p.limit) / (p.windowS * 1000));
    b.atMs = now;
    this.buckets.delete(key);
    this.buckets.set(key, b);
    if (this.buckets.size > BUCKETS_MAX) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    return b;
  }
}

function tooMany(v: Verdict, p: RatePolicy, who: string): ProblemError {
  return new ProblemError(
    429,
    "rate-limited",
    "Too many requests",
    `at most ${p.limit} requests per ${p.windowS} s per ${who}`,
    {},
    { ...v.headers, "retry-after": String(v.retryAfterS) },
  );
}

type Admit = (kind: IdentityKind, id: string) => void;
/** The request's admission, for the auth steps that verify an identity further down the chain. */
const admissions = new WeakMap<Context, Admit>();

/**
 * Moves this request's charge from its address to a just-verified identity (429 when that
 * identity's bucket is empty). A no-op on an app without the rate limit (route tests).
 */
export function chargeIdentity(c: Context, kind: IdentityKind, id: string): void {
  admissions.get(c)?.(kind, id);
}

export interface RateLimitOptions {
  readonly limiter: RateLimiter;
  readonly limits: RateLimits;
  /** The client address as the platform reports it; undefined when it reports none. */
  readonly clientAddress: (c: Context) => string | undefined;
}

export function rateLimit(o: RateLimitOptions): MiddlewareHandler {
  return async (c, next) => {
    const addressKey = `address:${o.clientAddress(c) ?? "unknown"}`;
    let policy = o.limits.address;
    let verdict = o.limiter.take(addressKey, policy);
    if (!verdict.ok) throw tooMany(verdict, policy, "client address");
    let identified = false;
    admissions.set(c, (kind, id) => {
      // One identity per request: a second verification on the same request changes nothing.
      if (identified) return;
      identified = true;
      o.limiter.refund(addressKey, o.limits.address);
      policy = o.limits[kind];
      verdict = o.limiter.take(`${kind}:${id}`, policy);
      if (!verdict.ok) throw tooMany(verdict, policy, kind);
    });
    await next();
    for (const [k, v] of Object.entries(verdict.headers)) c.header(k, v);
  };
}
