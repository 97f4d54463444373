import { type Context, Hono } from "hono";
import { antiEntropy } from "../../shared/quorum/anti-entropy.ts";
import { collectGarbage } from "../../shared/quorum/gc.ts";
import { MembershipControl } from "../../shared/quorum/membership.ts";
import { type RejoinProgress, type RejoinStep, rejoinStep } from "../../shared/quorum/rejoin.ts";
import { SWEEP_PREFIXES, type SweepResult, sweepSeats } from "../../shared/seats/sweep.ts";
import { membershipOf } from "../membership.ts";
import { ProblemError } from "../problem.ts";
import { continueCancellations } from "../services/cancellation.ts";
import type { Services } from "../services/index.ts";
import { recordSoldOrders } from "../services/order-sweep.ts";
import { paymentsFor } from "../services/payments.ts";

/** Keys compared per sweep: one sweep must fit a scheduled invocation's time limit. */
const SWEEP_KEYS_MAX = 5_000;
/** Keys re-chosen per rejoin step: each costs an identity change, so fewer than a plain sweep. */
const REJOIN_KEYS_MAX = 1_000;
/** Seat records looked at per prefix per call, and acted on (each a few quorum changes, ~0.1-0.5 s
 * over the WAN): both prefixes together stay well inside the 120 s a scheduled Lambda gets. */
const SEAT_SWEEP_RECORDS_MAX = 500;
const SEAT_SWEEP_ACTIONS_MAX = 100;
/** Where this provider's rejoin walk stands between scheduled calls (its own blob store). */
const REJOIN_PROGRESS_BLOB = "anti-entropy/rejoin";

/**
 * Scheduled anti-entropy (Workers Cron Trigger, Vercel Cron, a scheduled Lambda): compares the
 * three stores and re-proposes every key on which they disagree. Authenticated by CRON_SECRET;
 * disabled (404) where none is configured. While this provider's own store is rejoining (marked
 * restored, see docs/quorum.md "Acceptor amnesia"), each call also runs one step of the rejoin
 * walk, which sets the store back to member once it has re-chosen every key.
 *
 * Operator endpoints, same secret: `GET /internal/membership` (this store's membership),
 * `POST /internal/membership/restored` (mark this store restored BEFORE it serves again: it stops
 * voting), `POST /internal/membership/rejoin` (one rejoin step now, instead of waiting for cron).
 *
 * Each call then sweeps the seat records (shared/seats/sweep.ts: holds past expiry rolled back,
 * unsold holds and idempotency claims past their retention written null; `?sweep=0` skips it)
 * and garbage-collects the same slice (shared/quorum/gc.ts: records whose value is null are
 * deleted once all three stores hold them and a day has passed since anything touched them;
 * `?gc=0` skips it). Decisions 0005 and 0006. Unless `?sweep=0`, it first goes on with up to two
 * event cancellations the theatre did not see through (functions/services/cancellation.ts).
 */
export function antiEntropyRoutes(s: Services) {
  const app = new Hono();
  const secret = s.deps.settings.CRON_SECRET;
  const authorize = (c: Context) => {
    if (!secret) throw new ProblemError(404, "not-found", "Not Found", "anti-entropy is disabled");
    if (c.req.header("authorization") !== `Bearer ${secret}`) {
      throw new ProblemError(401, "unauthorized", "Unauthorized", "bad or missing cron secret");
    }
  };
  const handler = async (c: Context) => {
    authorize(c);
    const prefix = c.req.query("prefix") ?? "";
    const limitQ = Number(c.req.query("limit") ?? SWEEP_KEYS_MAX);
    const limit =
      Number.isInteger(limitQ) && limitQ > 0 ? Math.min(limitQ, SWEEP_KEYS_MAX) : SWEEP_KEYS_MAX;
    const { client, acceptors } = s.replication;
    // Cancellations the theatre started and did not see through (each refund is idempotent).
    const cancellations =
      c.req.query("sweep") === "0" || prefix !== ""
        ? undefined
        : await continueCancellations(s, paymentsFor(s));
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
    const rejoin = await rejoinIfRejoining(s);
    const sweep = c.req.query("sweep") === "0" || prefix !== "" ? undefined : await sweepAll(s);
    const gc =
      c.req.query("gc") !== "0"
        ? await collectGarbage(client, acceptors, prefix, {
            now: s.now(),
            limit,
            ...(after ? { after } : {}),
          })
        : undefined;
    return c.json({
      provider: s.deps.provider,
      prefix,
      from: after ?? null,
      ...result,
      ...(rejoin ? { rejoin } : {}),
      ...(sweep ? { sweep } : {}),
      ...(cancellations?.length ? { cancellations } : {}),
      ...(gc ? { gc } : {}),
    });
  };
  app.get("/internal/anti-entropy", handler);
  app.post("/internal/anti-entropy", handler);

  app.get("/internal/membership", async (c) => {
    authorize(c);
    return c.json({ provider: s.deps.provider, ...(await control(s).read()) });
  });
  app.post("/internal/membership/restored", async (c) => {
    authorize(c);
    const m = await control(s).markRestored(s.now(), membershipOf(s.deps)?.restore);
    membershipOf(s.deps)?.invalidate();
    // A new epoch starts a new walk; the old progress is dropped with it.
    await s.deps.blobs.put(REJOIN_PROGRESS_BLOB, "").catch(() => undefined);
    return c.json({ provider: s.deps.provider, ...m });
  });
  app.post("/internal/membership/rejoin", async (c) => {
    authorize(c);
    const step = await rejoinIfRejoining(s);
    return c.json({
      provider: s.deps.provider,
      ...(step ?? { membership: await control(s).read() }),
    });
  });
  return app;
}

/** One seat sweep slice per prefix, each resuming where this provider's last one stopped. */
async function sweepAll(s: Services): Promise<Record<string, SweepResult>> {
  const { acceptors, localIndex } = s.replication;
  // This provider's own store first (cheapest), the others if it does not answer.
  const stores = [acceptors[localIndex]!, ...acceptors.filter((_, i) => i !== localIndex)];
  const out: Record<string, SweepResult> = {};
  for (const prefix of SWEEP_PREFIXES) {
    const cursorBlob = `sweep/cursor/${prefix}`;
    const stored = await s.deps.blobs.get(cursorBlob).catch(() => null);
    const after = stored ? new TextDecoder().decode(stored) : "";
    const r = await sweepSeats(s.seats, stores, prefix, {
      now: s.now(),
      limit: SEAT_SWEEP_RECORDS_MAX,
      maxActions: SEAT_SWEEP_ACTIONS_MAX,
      followSold: (holds) => recordSoldOrders(s, holds),
      ...(after ? { after } : {}),
    });
    await s.deps.blobs.put(cursorBlob, r.next ?? "").catch(() => undefined);
    out[prefix] = r;
  }
  return out;
}

/** The membership record of this provider's own store, read and written there alone. */
function control(s: Services): MembershipControl {
  const decorated = membershipOf(s.deps);
  if (!decorated)
    throw new ProblemError(501, "not-implemented", "Not Implemented", "no membership");
  return new MembershipControl(decorated.inner);
}

/** One rejoin step when this provider's store is rejoining; undefined when it is a member. */
async function rejoinIfRejoining(s: Services): Promise<RejoinStep | undefined> {
  const decorated = membershipOf(s.deps);
  if (!decorated || (await decorated.membership()).state === "member") return undefined;
  const stored = await s.deps.blobs.get(REJOIN_PROGRESS_BLOB).catch(() => null);
  const text = stored ? new TextDecoder().decode(stored) : "";
  let progress: RejoinProgress | null = null;
  try {
    progress = text ? (JSON.parse(text) as RejoinProgress) : null;
  } catch {}
  const { client, acceptors, localIndex } = s.replication;
  const access = new MembershipControl(decorated.inner);
  // Configured with a restore name the store was not marked for yet: this is the mark (and the
  // start of the wait for messages sent before it).
  const restore = decorated.restore;
  if (restore !== undefined && (await access.read()).restore !== restore) {
    await access.markRestored(s.now(), restore);
    decorated.invalidate();
  }
  const step = await rejoinStep(client, acceptors, localIndex, access, progress, {
    limit: REJOIN_KEYS_MAX,
    now: s.now(),
  });
  await s.deps.blobs
    .put(REJOIN_PROGRESS_BLOB, step.progress ? JSON.stringify(step.progress) : "")
    .catch(() => undefined);
  if (step.rejoined) decorated.invalidate();
  return step;
}
