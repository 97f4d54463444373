import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyAccept, applyPrepare } from "../../shared/quorum/acceptor.ts";
import { BallotAllocator } from "../../shared/quorum/allocator.ts";
import { encodeBallot } from "../../shared/quorum/ballot.ts";
import { PromiseCache } from "../../shared/quorum/cache.ts";
import { type AcceptorRecord, emptyRecord } from "../../shared/quorum/messages.ts";
import {
  backoffMs,
  type ChangeFn,
  DEFAULT_PROPOSER_OPTIONS,
  Proposer,
  type ProposerContext,
  type ProposerEffect,
  type ProposerEvent,
} from "../../shared/quorum/proposer.ts";

/** Three acceptors as plain records, run with the real acceptor rules. */
class Cluster {
  recs: Map<string, AcceptorRecord>[] = [new Map(), new Map(), new Map()];
  get(i: number, k: string) {
    return this.recs[i]!.get(k) ?? emptyRecord(k);
  }
  /** The reply event an effect would produce at acceptor `i`. */
  deliver<T>(e: ProposerEffect<T>): ProposerEvent | null {
    if (e.type === "prepare") {
      const replies = e.request.keys.map((k) => {
        const { reply, next } = applyPrepare(this.get(e.acceptor, k), e.request.ballot);
        this.recs[e.acceptor]!.set(k, next);
        return reply;
      });
      return { type: "prepared", attempt: e.attempt, acceptor: e.acceptor, replies };
    }
    if (e.type === "accept") {
      const replies = e.entries.map((en) => {
        const { reply, next } = applyAccept(this.get(e.acceptor, en.key), en);
        this.recs[e.acceptor]!.set(en.key, next);
        return reply;
      });
      return { type: "accepted", attempt: e.attempt, acceptor: e.acceptor, replies };
    }
    if (e.type === "sleep") return { type: "woke", attempt: e.attempt };
    return null;
  }
}

function ctxFor(id = "p1") {
  const allocator = new BallotAllocator(id);
  const cache = new PromiseCache();
  return (now = 0): ProposerContext => ({ allocator, cache, now, random: 0.5 });
}

/** Runs a change to completion, delivering every effect immediately. */
function runToEnd<T>(
  cluster: Cluster,
  p: Proposer<T>,
  ctx: () => ProposerContext,
  drop?: (e: ProposerEffect<T>) => boolean,
) {
  const queue: ProposerEffect<T>[] = p.start(ctx());
  const seen: ProposerEffect<T>[] = [];
  while (queue.length > 0) {
    const e = queue.shift()!;
    seen.push(e);
    if (e.type === "done") return { outcome: e.outcome, seen };
    if (drop?.(e)) {
      if (e.type === "prepare" || e.type === "accept") {
        queue.push(
          ...p.step(
            { type: "failed", attempt: e.attempt, acceptor: e.acceptor, phase: e.type, error: "x" },
            ctx(),
          ),
        );
      }
      continue;
    }
    const ev = cluster.deliver(e);
    if (ev) queue.push(...p.step(ev, ctx()));
  }
  return { outcome: null, seen };
}

const inc: ChangeFn<number> = (cur) => ({ values: cur.map((v) => (v ?? 0) + 1), result: "inc" });

describe("Proposer", () => {
  it("cold: prepare to all three, accept f(highest) at the same ballot, ok on two acks", () => {
    const c = new Cluster();
    const ctx = ctxFor();
    const { outcome, seen } = runToEnd(c, new Proposer(["a", "b"], inc), ctx);
    expect(outcome).toEqual({ status: "ok", values: [1, 1], result: "inc" });
    const prepares = seen.filter((e) => e.type === "prepare");
    const accepts = seen.filter((e) => e.type === "accept");
    expect(prepares).toHaveLength(3);
    expect(accepts).toHaveLength(3);
    const ballot = prepares[0]!.type === "prepare" ? prepares[0]!.request.ballot : "";
    for (const a of accepts)
      if (a.type === "accept") expect(a.entries.map((x) => x.ballot)).toEqual([ballot, ballot]);
    expect(c.get(0, "a").value).toBe("1");
  });

  it("warm: the next change on the same keys skips prepare (one round trip)", () => {
    const c = new Cluster();
    const ctx = ctxFor();
    runToEnd(c, new Proposer(["a"], inc), ctx);
    const { outcome, seen } = runToEnd(c, new Proposer(["a"], inc), ctx);
    expect(outcome).toMatchObject({ status: "ok", values: [2] });
    expect(seen.filter((e) => e.type === "prepare")).toHaveLength(0);
  });

  it("a warm promise older than the warm lifetime is not spent: the change prepares", () => {
    const c = new Cluster();
    const ctx = ctxFor();
    runToEnd(c, new Proposer(["a"], inc), () => ctx(0));
    const ttl = DEFAULT_PROPOSER_OPTIONS.warmTtlMs;
    const late = runToEnd(c, new Proposer(["a"], inc), () => ctx(ttl + 1));
    expect(late.outcome).toMatchObject({ status: "ok", values: [2] });
    expect(late.seen.filter((e) => e.type === "prepare")).toHaveLength(3);
    const fresh = runToEnd(c, new Proposer(["a"], inc), () => ctx(ttl + 2));
    expect(fresh.seen.filter((e) => e.type === "prepare")).toHaveLength(0);
  });

  it("a change past its lifetime sends nothing more: unavailable before accepts, else unknown", () => {
    const life = DEFAULT_PROPOSER_OPTIONS.changeLifetimeMs;
    for (const after of ["prepare", "accept"] as const) {
      const c = new Cluster();
      const ctx = ctxFor();
      const p = new Proposer(["a"], inc);
      const out: ProposerEffect<number>[] = [];
      // Replies of the `after` phase arrive once the instance thawed, a lifetime later.
      const queue = p.start(ctx(0));
      let now = 0;
      while (queue.length > 0) {
        const e = queue.shift()!;
        out.push(e);
        if (e.type === "done") break;
        if (e.type === after) now = life + 1;
        const ev = c.deliver(e);
        if (ev) queue.push(...p.step(ev, ctx(now)));
      }
      const done = out.at(-1);
      expect(done).toMatchObject({
        type: "done",
        outcome: { status: after === "prepare" ? "unavailable" : "unknown" },
      });
      if (after === "prepare") expect(out.filter((e) => e.type === "accept")).toHaveLength(0);
      expect(ctx(now).cache.has("a")).toBe(false);
    }
  });

  it("a stale warm cache is refused, then f runs afresh once the prepare proves it landed nowhere", () => {
    const c = new Cluster();
    const mine = ctxFor("p1");
    runToEnd(c, new Proposer(["a"], inc), mine);
    runToEnd(c, new Proposer(["a"], inc), ctxFor("p2")); // someone else writes meanwhile
    let calls = 0;
    const counted: ChangeFn<number> = (cur) => {
      calls++;
      return inc(cur);
    };
    const { outcome, seen } = runToEnd(c, new Proposer(["a"], counted), mine);
    // p2's ballot sits below the fence of our warm accept on all three acceptors: ours never
    // landed, so the increment is applied once, to p2's value.
    expect(outcome).toMatchObject({ status: "ok", values: [3] });
    expect(calls).toBe(2);
    expect(seen.filter((e) => e.type === "prepare").length).toBe(3);
    const read = runToEnd(c, new Proposer<number>(["a"], (cur) => ({ values: cur })), ctxFor("r"));
    expect(read.outcome).toMatchObject({ status: "ok", values: [3] });
  });

  it("three refusals are no proof: a first delivery that landed and was carried forward", () => {
    const c = new Cluster();
    const mine = ctxFor("p1");
    runToEnd(c, new Proposer(["a"], inc), mine); // a = 1, and p1 holds a warm promise
    let calls = 0;
    const cas: ChangeFn<number> = (cur) => {
      calls++;
      return cur[0] === 1 ? { values: [2] } : { abort: "mismatch" };
    };
    const p = new Proposer(["a"], cas);
    const accepts = p.start(mine());
    expect(accepts.map((e) => e.type)).toEqual(["accept", "accept", "accept"]);
    // Our warm accept lands on acceptor 0; its reply is lost.
    c.deliver(accepts[0]!);
    // A reader whose clock is ahead prepares above our fence, sees 2 on acceptor 0 and writes it
    // back everywhere: our CAS took effect.
    const reader = runToEnd(c, new Proposer<number>(["a"], (cur) => ({ values: cur })), () =>
      ctxFor("p2")(1_000_000),
    );
    expect(reader.outcome).toMatchObject({ status: "ok", values: [2] });
    // Now every delivery of our accept is refused: acceptor 0's by a duplicate.
    const out: ProposerEffect<number>[] = [];
    for (const e of accepts) {
      const ev = c.deliver(e)!;
      expect(ev.type === "accepted" && ev.replies[0]!.ok).toBe(false);
      out.push(...p.step(ev, mine()));
    }
    // Re-running f now would see 2 and abort: a CAS reported failed although it took effect.
    const queue = [...out];
    let outcome: unknown = null;
    while (queue.length > 0) {
      const e = queue.shift()!;
      if (e.type === "done") {
        outcome = e.outcome;
        break;
      }
      const ev = c.deliver(e);
      if (ev) queue.push(...p.step(ev, mine()));
    }
    expect(outcome).toMatchObject({ status: "unknown" });
    expect(calls).toBe(1);
  });

  it("in a batch, only the keys the change altered need proof of absence", () => {
    const c = new Cluster();
    const mine = ctxFor("p1");
    runToEnd(c, new Proposer(["a", "b"], inc), mine); // a = b = 1, warm on both
    runToEnd(c, new Proposer(["a"], inc), ctxFor("p2")); // another writer: a = 2
    let calls = 0;
    const bumpA: ChangeFn<number> = (cur) => {
      calls++;
      return { values: [(cur[0] ?? 0) + 10, cur[1] ?? null] };
    };
    // Our warm accept is refused on a everywhere but lands on b (written back as read): b then
    // shows our ballot, which proves nothing either way and needs no proof; a is proven absent.
    const { outcome } = runToEnd(c, new Proposer(["a", "b"], bumpA), mine);
    expect(outcome).toMatchObject({ status: "ok", values: [12, 1] });
    expect(calls).toBe(2);
  });

  it("runs f afresh once all three acceptors show the earlier accept landed nowhere", () => {
    const c = new Cluster();
    // Acceptor 0 holds a value our first prepare quorum (1, 2) did not see.
    const older = encodeBallot({ counter: 5, proposer: "zz" });
    c.recs[0]!.set("a", { key: "a", promised: older, accepted: older, value: "7" });
    let calls = 0;
    const f: ChangeFn<number> = (cur) => {
      calls++;
      return { values: [(cur[0] ?? 0) + 1] };
    };
    const base = ctxFor();
    const { outcome } = runToEnd(
      c,
      new Proposer(["a"], f),
      () => base(10),
      (e) => {
        if (!("attempt" in e) || e.attempt !== 1) return false;
        return e.type === "accept" || (e.type === "prepare" && e.acceptor === 0);
      },
    );
    expect(outcome).toMatchObject({ status: "ok", values: [8] });
    expect(calls).toBe(2);
  });

  it("retries above the conflicting ballot after refusals", () => {
    const c = new Cluster();
    const high = encodeBallot({ counter: 500, proposer: "zz" });
    for (let i = 0; i < 3; i++)
      c.recs[i]!.set("a", { key: "a", promised: high, accepted: "", value: null });
    const { outcome, seen } = runToEnd(c, new Proposer(["a"], inc), ctxFor());
    expect(outcome).toMatchObject({ status: "ok", values: [1] });
    const sleeps = seen.filter((e) => e.type === "sleep");
    expect(sleeps).toHaveLength(1);
    const last = seen.filter((e) => e.type === "prepare").at(-1)!;
    expect(last.type === "prepare" && last.request.ballot > high).toBe(true);
  });

  it("is unavailable, not unknown, when fewer than two acceptors answer", () => {
    const c = new Cluster();
    const { outcome } = runToEnd(
      c,
      new Proposer(["a"], inc),
      ctxFor(),
      (e) => e.type === "prepare" && e.acceptor > 0,
    );
    expect(outcome).toMatchObject({ status: "unavailable" });
  });

  it("is unknown when an accept reached one acceptor and then the others vanished", () => {
    const c = new Cluster();
    let prepared = false;
    const { outcome } = runToEnd(
      c,
      new Proposer(["a"], inc, { ...DEFAULT_PROPOSER_OPTIONS, maxAttempts: 2 }),
      ctxFor(),
      (e) => {
        if (e.type === "accept") prepared = true;
        // After the first accept round: only acceptor 0 is reachable.
        return prepared && e.type !== "sleep" && "acceptor" in e && e.acceptor > 0;
      },
    );
    expect(outcome).toMatchObject({ status: "unknown" });
    expect(c.get(0, "a").value).toBe("1");
  });

  it("after an uncertain accept, re-proposes the same values instead of re-running f", () => {
    const c = new Cluster();
    let calls = 0;
    const f: ChangeFn<number> = (cur) => {
      calls++;
      return { values: [(cur[0] ?? 0) + 1] };
    };
    let failedOnce = false;
    const { outcome } = runToEnd(c, new Proposer(["a"], f), ctxFor(), (e) => {
      // The first accept round reaches acceptor 0 only.
      if (e.type === "accept" && !failedOnce && e.acceptor > 0) {
        if (e.acceptor === 2) failedOnce = true;
        return true;
      }
      return false;
    });
    expect(outcome).toMatchObject({ status: "ok", values: [1] });
    expect(calls).toBe(1);
  });

  it("a duplicated delivery of a stored accept is acknowledged, even after a higher promise", () => {
    const c = new Cluster();
    const ctx = ctxFor();
    const p = new Proposer(["b"], inc);
    const outs: ProposerEffect<number>[] = [];
    for (const e of p.start(ctx())) outs.push(...p.step(c.deliver(e)!, ctx()));
    const accepts = outs.filter((e) => e.type === "accept");
    const done: ProposerEffect<number>[] = [];
    for (const e of accepts.slice(0, 2)) c.deliver(e); // the first deliveries land, replies lost
    runToEnd(c, new Proposer(["b"], inc), ctxFor("p2"), (e) => e.type === "accept"); // prepares
    for (const e of accepts.slice(0, 2)) {
      const dup = c.deliver(e)!;
      expect(dup.type === "accepted" && dup.replies[0]!.ok).toBe(true);
      done.push(...p.step(dup, ctx()));
    }
    expect(done.find((e) => e.type === "done")).toMatchObject({
      outcome: { status: "ok", values: [1] },
    });
  });

  it("counts an old-rule refusal naming its own promise as the echo of its own accept", () => {
    // Acceptors from before the repeat rule refused a duplicate with conflict = our `next`, which
    // only an acceptor that stored our accept can hold (ballots are never reused).
    const c = new Cluster();
    const ctx = ctxFor();
    const p = new Proposer(["b"], inc);
    const outs: ProposerEffect<number>[] = [];
    for (const e of p.start(ctx())) outs.push(...p.step(c.deliver(e)!, ctx()));
    const accepts = outs.filter((e) => e.type === "accept");
    const done: ProposerEffect<number>[] = [];
    for (const e of accepts.slice(0, 2)) {
      if (e.type !== "accept") continue;
      c.deliver(e);
      const conflict = e.entries[0]!.next!;
      done.push(
        ...p.step(
          {
            type: "accepted",
            attempt: e.attempt,
            acceptor: e.acceptor,
            replies: [{ ok: false, key: "b", conflict }],
          },
          ctx(),
        ),
      );
    }
    expect(done.find((e) => e.type === "done")).toMatchObject({
      outcome: { status: "ok", values: [1] },
    });
  });

  it("an abort writes the values it saw back and reports them", () => {
    const c = new Cluster();
    const ctx = ctxFor();
    runToEnd(c, new Proposer(["a"], inc), ctx);
    const { outcome, seen } = runToEnd(
      c,
      new Proposer<number>(["a"], () => ({ abort: "no" })),
      ctxFor("p9"),
    );
    expect(outcome).toEqual({ status: "aborted", reason: "no", values: [1] });
    const acc = seen.find((e) => e.type === "accept");
    expect(acc?.type === "accept" && acc.entries[0]!.value).toBe("1");
  });

  it("ignores duplicate and stale replies", () => {
    const c = new Cluster();
    const ctx = ctxFor();
    const p = new Proposer(["a"], inc);
    const [e0] = p.start(ctx());
    const ev = c.deliver(e0!)!;
    expect(p.step(ev, ctx())).toEqual([]);
    expect(p.step(ev, ctx())).toEqual([]);
    expect(p.step({ ...ev, attempt: 99 } as ProposerEvent, ctx())).toEqual([]);
  });

  it("backoff is jittered within [half, full] of a ceiling growing from the attempt's time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 0.9999, noNaN: true }),
        fc.integer({ min: 0, max: 5_000 }),
        (attempt, r, attemptMs) => {
          const o = DEFAULT_PROPOSER_OPTIONS;
          const ms = backoffMs(attempt, r, o, attemptMs);
          const base = Math.max(o.backoffBaseMs, Math.min(attemptMs, o.backoffMaxMs));
          const ceiling = Math.min(o.backoffMaxMs, base * 2 ** (attempt - 1));
          expect(ms).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(ms).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });

  it("property: sequential changes from random proposers with random drops never lose an increment", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.boolean()),
          { minLength: 1, maxLength: 12 },
        ),
        (script) => {
          const c = new Cluster();
          const ctxs = [ctxFor("p0"), ctxFor("p1"), ctxFor("p2")];
          let committed = 0;
          let maybe = 0;
          for (const [who, down, dropSome] of script) {
            const { outcome } = runToEnd(
              c,
              new Proposer(["k"], inc),
              ctxs[who]!,
              (e) => dropSome && "acceptor" in e && e.acceptor === down,
            );
            if (outcome?.status === "ok") committed++;
            else if (outcome?.status === "unknown") maybe++;
          }
          const final = runToEnd(
            c,
            new Proposer<number>(["k"], (cur) => ({ values: cur })),
            ctxFor("reader"),
          );
          const v = final.outcome?.status === "ok" ? (final.outcome.values[0] ?? 0) : -1;
          expect(v).toBeGreaterThanOrEqual(committed);
          expect(v).toBeLessThanOrEqual(committed + maybe);
        },
      ),
    );
  });
});

describe("attestations in accept replies", () => {
  it("hands over those of the accepts that counted toward the quorum only", async () => {
    const c = new Cluster();
    const ctx = ctxFor();
    const p = new Proposer<number>(["a"], () => ({ values: [1] }));
    const queue: ProposerEffect<number>[] = p.start(ctx());
    let outcome: Extract<ProposerEffect<number>, { type: "done" }>["outcome"] | null = null;
    while (queue.length > 0 && outcome === null) {
      const e = queue.shift()!;
      if (e.type === "done") {
        outcome = e.outcome;
        break;
      }
      let ev = c.deliver(e);
      if (ev?.type === "accepted") {
        // Acceptor 0 is rejoining (a learner: its yes does not count); 1 and 2 vote.
        const by = ev.acceptor;
        const learner = by === 0;
        ev = {
          ...ev,
          replies: ev.replies.map((r) =>
            r.ok ? { ...r, attest: { by }, ...(learner ? { learner } : {}) } : r,
          ),
        };
      }
      if (ev) queue.push(...p.step(ev, ctx()));
    }
    expect(outcome?.status).toBe("ok");
    const attested = outcome?.status === "ok" ? (outcome.attested ?? []) : [];
    expect(attested.map((a) => a.acceptor).sort()).toEqual([1, 2]);
    expect(attested.every((a) => a.key === "a")).toBe(true);
  });

  it("has none when no acceptor attested", () => {
    const c = new Cluster();
    const { outcome } = runToEnd(c, new Proposer<number>(["a"], () => ({ values: [1] })), ctxFor());
    expect(outcome?.status === "ok" && outcome.attested).toBeUndefined();
  });
});
