import type { Context } from "hono";
import type { ClusterConfig, PrivateJwk, ProviderId } from "../shared/config.ts";
import type { AppSettings } from "../shared/env.ts";
import type { AcceptorPort, BlobPort } from "../shared/storage/ports.ts";
import type { RateLimits } from "./middleware/rate-limit.ts";

/**
 * Everything the handler set needs from its host. An adapter builds this from its provider's
 * environment (one driver per port) and passes it to `createApp`; nothing else crosses the edge.
 */
export interface AppDeps {
  readonly provider: ProviderId;
  readonly cluster: ClusterConfig;
  readonly signingKey: PrivateJwk;
  /** Identity and product settings from the deployment's environment (shared/env.ts). */
  readonly settings: AppSettings;
  /** This provider's own acceptor, called in-process by the coordinator. */
  readonly acceptor: AcceptorPort;
  readonly blobs: BlobPort;
  /** Human name of the store behind the acceptor, reported by /health. */
  readonly storeName: string;
  /** Wall clock in ms; injectable so tests can skew it. */
  readonly now?: () => number;
  /** Outgoing fetch for peer calls; injectable so tests and the WAN proxy can intercept. */
  readonly fetch?: typeof fetch;
  /**
   * The client's address as the PLATFORM reports it (Cloudflare's CF-Connecting-IP, Vercel's
   * x-real-ip, API Gateway's sourceIp), never a header the client could set itself. Rate limits
   * key on it; without it every anonymous client shares one budget.
   */
  readonly clientAddress?: (c: Context) => string | undefined;
  /** Overrides of the rate limits (functions/middleware/rate-limit.ts), for tests. */
  readonly rateLimits?: Partial<RateLimits>;
  /** false: this store signs nothing in its accept replies (functions/peers/witnessing-acceptor.ts),
   * for tests of the way tickets are signed without it. */
  readonly witnessAccepts?: false;
}

/** The host's dependencies with every default filled in: what the code below `createApp` sees. */
export interface Deps extends AppDeps {
  readonly now: () => number;
  readonly fetch: typeof fetch;
}

/**
 * Fills in the defaults once, where the app is built, so no handler or service picks its own.
 * The platform's fetch is wrapped rather than stored: called as a method of another object
 * (`deps.fetch(url)`), Workers' fetch throws "Illegal invocation".
 */
export function withDefaults(host: AppDeps): Deps {
  return {
    ...host,
    now: host.now ?? Date.now,
    fetch: host.fetch ?? ((input, init) => fetch(input, init)),
  };
}
