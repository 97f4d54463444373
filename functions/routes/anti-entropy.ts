import { Hono } from "hono";
import { antiEntropy } from "../../shared/quorum/anti-entropy.ts";
import { collectGarbage } from "../../shared/quorum/gc.ts";
import { ProblemError } from "../problem.ts";
import type { Services } from "../services/index.ts";

/** Keys compared per sweep: one sweep must fit a scheduled invocation's time limit. */
const SWEEP_KEYS_MAX = 5_000;

/**
 * Scheduled anti-entropy (Workers Cron Trigger, Vercel Cron, a scheduled Lambda): compares the
 * three stores and re-proposes every key on which they disagree. Authenticated by CRON_SECRET;
 * disabled (404) where none is configured. With `?gc=1` the same slice is then garbage-collected
 * (shared/quorum/gc.ts): records whose value is null (reads and aborted changes of absent keys
 * leave them) are deleted once all three stores hold them and a day has passed since anything
 * touched them. Opt-in while no product record is written null on purpose (decision 0005).
 */
export function antiEntropyRoutes(s: Services) {
  const app = new Hono();
  const secret = s.deps.settings.CRON_SECRET;
  const handler = async (c: import("hono").Context) => {
    if (!secret) throw new ProblemError(404, "not-found", "Not Found", "anti-entropy is disabled");
    if (c.req.header("authorization") !== `Bearer ${secret}`) {
      throw new ProblemError(401, "unauthorized", "Unauthorized", "bad or missing cron secret");
    }
    const prefix = c.req.query("prefix") ?? "";
    const limitQ = Number(c.req.query("limit") ?? SWEEP_KEYS_MAX);
    const limit =
      Number.isInteger(limitQ) && limitQ > 0 ? Math.min(limitQ, SWEEP_KEYS_MAX) : SWEEP_KEYS_MAX;
    const { client, acceptors } = s.replication;
    // Each sweep resumes where the last one on this provider stopped, so a keyspace larger than one
    // sweep is still covered, a slice per scheduled run. The cursor lives in the provider's own blob
    // store: losing it only restarts the walk from the beginning.
    const cursorBlob = `anti-entropy/cursor/${encodeURIComponent(prefix) || "_all"}`;
    const stored = await s.deps.blobs.get(cursorBlob).catch(() => null);
    const after = stored ? new TextDecoder().decode(stored) : undefined;
    const result = await antiEntropy(client, acceptors, prefix, {
      limit,
      ...(after ? { after } : {}),
    });
    await s.deps.blobs.put(cursorBlob, result.next ?? "").catch(() => undefined);
    const gc =
      c.req.query("gc") === "1"
        ? await collectGarbage(client, acceptors, prefix, {
            now: (s.deps.now ?? Date.now)(),
            limit,
            ...(after ? { after } : {}),
          })
        : undefined;
    return c.json({
      provider: s.deps.provider,
      prefix,
      from: after ?? null,
      ...result,
      ...(gc ? { gc } : {}),
    });
  };
  app.get("/internal/anti-entropy", handler);
  app.post("/internal/anti-entropy", handler);
  return app;
}
