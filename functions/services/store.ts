import type { QuorumClient } from "../../shared/quorum/client.ts";
import { mergeScans } from "../../shared/quorum/merge-scan.ts";
import type { ScanPage } from "../../shared/quorum/messages.ts";
import { UNKNOWN_RERUNS } from "../../shared/quorum/retry-budget.ts";
import { QUORUM } from "../../shared/quorum/tally.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { ProblemError } from "../problem.ts";

/** What a 503 tells a client: the quorum is short right now; retrying soon, anywhere, is safe. */
export const RETRY_AFTER_S = 2;

/** `diagnostic` (driver and peer error text) goes to the log only. */
export const unavailable = (diagnostic: string) =>
  new ProblemError(
    503,
    "quorum-unavailable",
    "Fewer than two providers' stores answered",
    "the stores could not be reached; retry soon, on any provider",
    {},
    { "retry-after": String(RETRY_AFTER_S) },
  ).logging(diagnostic);

/** The refusal `unavailable` makes: the change did not happen. */
export const isQuorumUnavailable = (e: unknown) =>
  e instanceof ProblemError && e.problem.type.endsWith("/quorum-unavailable");

/** `what` is our own wording of the step; `diagnostic` goes to the log only. */
export const outcomeUnknown = (what: string, diagnostic = what) =>
  new ProblemError(
    503,
    "outcome-unknown",
    "The outcome is not known yet",
    `${what}; retry the same request with the same Idempotency-Key to learn it`,
    {},
    { "retry-after": String(RETRY_AFTER_S) },
  ).logging(diagnostic);

/** The refusal `outcomeUnknown` makes: the change may or may not have happened. */
export const isOutcomeUnknown = (e: unknown) =>
  e instanceof ProblemError && e.problem.type.endsWith("/outcome-unknown");

/** How a scan (not a read of named keys: that is shared/quorum/client.ts Consistency) reads: one
 * store's page, this provider's first (browsing), or two stores' pages merged, holding every
 * committed record (exports, backups, a buyer's own lists). */
export type ScanConsistency = "local" | "majority";

export type Update<T> = T | { readonly abort: unknown };

/**
 * Typed entity access over the replicated store. Writes and buyer-facing reads go through the quorum
 * (linearizable); `local*` reads serve browsing from this provider's own store (fast, may be a
 * little stale). Infrastructure trouble becomes a 503 problem; never a 500.
 */
export class EntityStore {
  /**
   * `acceptors` in preference order for BASE reads: this provider's own store first, then the
   * peers. Browsing keeps working while the own store is down: a page served from a peer's store is
   * as fresh as the local one would have been.
   */
  private readonly readOrder: readonly AcceptorPort[];

  constructor(
    private readonly client: QuorumClient,
    local: AcceptorPort,
    peers: readonly AcceptorPort[] = [],
  ) {
    this.readOrder = [local, ...peers.filter((p) => p !== local)];
  }

  async get<T>(key: string): Promise<T | null> {
    return (await this.getMany<T>([key]))[0] ?? null;
  }

  async getMany<T>(keys: readonly string[]): Promise<(T | null)[]> {
    const out = await this.client.get<T>(keys, { consistency: "quorum" });
    if (out.status !== "ok") throw unavailable(out.reason);
    return out.values;
  }

  /**
   * Linearizable like `get`, but read-only when two stores agree (one round trip, no write): for
   * hot records many requests read at once (an event during its onsale), where a repairing read
   * would make every reader a writer of the same register.
   */
  async read<T>(key: string): Promise<T | null> {
    const out = await this.client.get<T>([key], { consistency: "majority" });
    if (out.status !== "ok") throw unavailable(out.reason);
    return out.values[0] ?? null;
  }

  async localGet<T>(key: string): Promise<T | null> {
    return (await this.localGetMany<T>([key]))[0] ?? null;
  }

  /** This provider's committed copy (see Consistency "local" in shared/quorum/client.ts); with
   * its own store down, a majority read of the other two. */
  async localGetMany<T>(keys: readonly string[]): Promise<(T | null)[]> {
    const out = await this.client.get<T>(keys, { consistency: "local" });
    if (out.status !== "ok") throw unavailable(out.reason);
    return out.values;
  }

  /**
   * Applies `f` to the current values of `keys` as one change: decided on all keys at once, but
   * its accepts land per key, so a lost or interrupted attempt may leave some keys written and its
   * retry re-runs `f` on them (docs/quorum.md, "Multi-key changes"): `f` must tolerate finding
   * its own earlier effect on some keys. `f` must be
   * deterministic (it may run more than once). Returns the new values, or the abort reason.
   */
  async change<T>(
    keys: readonly string[],
    f: (cur: (T | null)[]) => Update<(T | null)[]>,
  ): Promise<{ ok: true; values: (T | null)[] } | { ok: false; reason: unknown }> {
    const out = await this.client.change<T>(keys, (cur) => {
      const r = f(cur);
      return isAbort(r) ? { abort: r.abort } : { values: r as (T | null)[] };
    });
    switch (out.status) {
      case "ok":
        return { ok: true, values: out.values };
      case "aborted":
        return { ok: false, reason: out.reason };
      case "unknown":
        throw outcomeUnknown("the change did not complete", out.reason);
      case "unavailable":
        throw unavailable(out.reason);
    }
  }

  /** Creates `key` with `value` unless it exists; returns the stored value either way. */
  async createOnce<T>(key: string, value: T): Promise<{ created: boolean; value: T }> {
    const r = await this.change<T>([key], ([cur]) => (cur == null ? [value] : { abort: cur }));
    return r.ok ? { created: true, value } : { created: false, value: r.reason as T };
  }

  /**
   * Records under `prefix`, one page, holding every committed record: two stores' pages merged
   * (`mergeScans`). For what must not miss a write this provider's store missed: a buyer's own
   * orders right after buying on another provider, a theatre's backup. Costs one peer round trip.
   */
  async majorityScan<T>(
    prefix: string,
    opts: { cursor?: string; limit?: number } = {},
  ): Promise<{ items: { key: string; value: T }[]; cursor?: string }> {
    const pages: ScanPage[] = [];
    const errors: string[] = [];
    const scan = async (store: AcceptorPort) => {
      try {
        const page = await store.scan(prefix, opts);
        // A rejoining store may have lost committed records: it is not one of the two.
        if (page.learner) errors.push("a store is rejoining after a restore");
        else pages.push(page);
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
    };
    // The own store and the first peer at once; the other peer only if one of them failed.
    await Promise.all(this.readOrder.slice(0, QUORUM).map(scan));
    for (const store of this.readOrder.slice(QUORUM)) {
      if (pages.length >= QUORUM) break;
      await scan(store);
    }
    if (pages.length < QUORUM) {
      throw unavailable(`fewer than ${QUORUM} stores could be scanned: ${errors.join("; ")}`);
    }
    return itemsOf<T>(mergeScans(pages));
  }

  /** One page of records under `prefix`, read as `consistency` says. */
  scan<T>(
    prefix: string,
    opts: { cursor?: string; limit?: number },
    consistency: ScanConsistency,
  ): Promise<{ items: { key: string; value: T }[]; cursor?: string }> {
    return consistency === "local"
      ? this.localScan<T>(prefix, opts)
      : this.majorityScan<T>(prefix, opts);
  }

  /** Records under `prefix` from this provider's own store, one page (BASE read). */
  async localScan<T>(
    prefix: string,
    opts: { cursor?: string; limit?: number } = {},
  ): Promise<{ items: { key: string; value: T }[]; cursor?: string }> {
    let page: Awaited<ReturnType<AcceptorPort["scan"]>> | undefined;
    const errors: string[] = [];
    // Cursors are plain keys on every driver, so a scan may continue on another store.
    for (const store of this.readOrder) {
      try {
        page = await store.scan(prefix, opts);
        break;
      } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
      }
    }
    if (!page) throw unavailable(`no store could be scanned: ${errors.join("; ")}`);
    return itemsOf<T>(page);
  }
}

function itemsOf<T>(page: ScanPage): { items: { key: string; value: T }[]; cursor?: string } {
  const items: { key: string; value: T }[] = [];
  for (const r of page.records) {
    if (r.value === null) continue;
    const v = JSON.parse(r.value) as T | null;
    if (v !== null) items.push({ key: r.key, value: v });
  }
  return page.cursor === undefined ? { items } : { items, cursor: page.cursor };
}

function isAbort<T>(r: Update<T>): r is { readonly abort: unknown } {
  return typeof r === "object" && r !== null && !Array.isArray(r) && "abort" in r;
}

/**
 * Re-runs of a change whose outcome came back unknown. The quorum's one-round-trip fast path
 * reports "unknown" when a writer on another provider overtook an accept that may have landed on
 * one store; every change function of these services is idempotent (a re-run on its own earlier
 * effect writes the same or reports it as done), so re-running it settles the outcome.
 */
export const CHANGE_RETRIES = UNKNOWN_RERUNS;

export async function retryingChange<T>(
  s: { readonly store: Pick<EntityStore, "change"> },
  keys: readonly string[],
  f: (cur: (T | null)[]) => Update<(T | null)[]>,
): Promise<{ ok: true; values: (T | null)[] } | { ok: false; reason: unknown }> {
  let unknownBefore: unknown;
  for (let attempt = 0; ; attempt++) {
    try {
      return await s.store.change<T>(keys, f);
    } catch (e) {
      const unknown = isOutcomeUnknown(e);
      // "Unavailable" says the change did not happen; after an unknown outcome it may have, so
      // the answer stays the unknown one (retry with the same key to learn it).
      if (!unknown && unknownBefore !== undefined && isQuorumUnavailable(e)) throw unknownBefore;
      if (!unknown || attempt >= CHANGE_RETRIES) throw e;
      unknownBefore = e;
    }
  }
}
