import { Hono } from "hono";
import { PROVIDERS } from "../../shared/config.ts";
import { QUORUM } from "../../shared/quorum/tally.ts";
import type { Deps } from "../deps.ts";
import { errorText } from "../problem.ts";

/** How long a peer may take to answer /livez before /health calls it unreachable. */
const LIVEZ_TIMEOUT_MS = 1500;

interface PeerHealth {
  ok: boolean;
  latencyMs?: number;
  error?: string;
}

export function healthRoutes(deps: Deps) {
  const app = new Hono();
  const now = deps.now;
  const doFetch = deps.fetch;

  app.get("/livez", (c) => c.json({ provider: deps.provider, ok: true }));

  // Anyone may call /health: it says what failed, never the error text (store hosts, driver
  // messages), which goes to the log with the request id instead.
  app.get("/health", async (c) => {
    const rid = c.get("requestId" as never) as string | undefined;
    const log = (what: string, e: unknown) =>
      console.error(`[${deps.provider}] [${rid ?? "-"}] /health: ${what}: ${errorText(e)}`);
    const t0 = now();
    const store = await deps.acceptor.ping().then(
      () => ({ name: deps.storeName, ok: true, latencyMs: now() - t0 }),
      (e: unknown) => {
        log("store", e);
        return { name: deps.storeName, ok: false, error: "store did not answer" };
      },
    );
    const peers = Object.fromEntries(
      await Promise.all(
        PROVIDERS.filter((p) => p !== deps.provider).map(async (p) => {
          const t = now();
          try {
            const r = await doFetch(`${deps.cluster.providers[p].url}/livez`, {
              signal: AbortSignal.timeout(LIVEZ_TIMEOUT_MS),
            });
            const res: PeerHealth = { ok: r.ok, latencyMs: now() - t };
            return [p, res] as const;
          } catch (e) {
            log(p, e);
            const timedOut = e instanceof Error && e.name === "TimeoutError";
            const res: PeerHealth = { ok: false, error: timedOut ? "timed out" : "unreachable" };
            return [p, res] as const;
          }
        }),
      ),
    );
    const reachable = 1 + Object.values(peers).filter((x) => x.ok).length;
    const body = {
      provider: deps.provider,
      clusterId: deps.cluster.clusterId,
      store,
      peers,
      quorum: { reachable, available: store.ok ? reachable >= QUORUM : reachable - 1 >= QUORUM },
    };
    return c.json(body, store.ok ? 200 : 503);
  });
  return app;
}
