import { PROVIDERS } from "../../shared/config.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import type { Deps } from "../deps.ts";
import { RemoteAcceptor } from "./remote-acceptor.ts";

/**
 * The three acceptors in cluster order (cloudflare, vercel, aws): this provider's own store
 * in-process, the other two over their signed internal endpoints.
 */
export function clusterAcceptors(deps: Deps): { acceptors: AcceptorPort[]; localIndex: number } {
  const acceptors = PROVIDERS.map((p) =>
    p === deps.provider
      ? deps.acceptor
      : new RemoteAcceptor({
          to: p,
          url: deps.cluster.providers[p].url,
          key: deps.signingKey,
          now: deps.now,
          fetch: deps.fetch,
        }),
  );
  return { acceptors, localIndex: PROVIDERS.indexOf(deps.provider) };
}
