import { describe, expect, it } from "vitest";
import { applyAccept, applyPrepare } from "../../shared/quorum/acceptor.ts";
import { BallotAllocator } from "../../shared/quorum/allocator.ts";
import { encodeBallot } from "../../shared/quorum/ballot.ts";
import { PromiseCache } from "../../shared/quorum/cache.ts";
import { type AcceptorRecord, emptyRecord } from "../../shared/quorum/messages.ts";
import {
  type ChangeFn,
  Proposer,
  type ProposerContext,
  type ProposerEffect,
  type ProposerEvent,
} from "../../shared/quorum/proposer.ts";

/**
 * The proposer's side of the membership rule: a store that is rejoining after it may have lost
 * writes answers with `learner: true`, and its yes must not count toward a quorum.
 */

/** Three acceptors as plain records under the real rules; the ones in `learners` are rejoining. */
class Cluster {
  recs: Map<string, AcceptorRecord>[] = [new Map(), new Map(), new Map()];
  constructor(readonly learners: ReadonlySet<number> = new Set()) {}
  get(i: number, k: string) {
    return this.recs[i]!.get(k) ?? emptyRecord(k);
  }
  private tag<R extends object>(i: number, r: R): R {
    return this.learners.has(i) ? { ...r, learner: true as const } : r;
  }
  deliver<T>(e: ProposerEffect<T>): ProposerEvent | null {
    if (e.type === "prepare") {
      const replies = e.request.keys.map((k) => {
        const { reply, next } = applyPrepare(this.get(e.acceptor, k), e.request.ballot);
        this.recs[e.acceptor]!.set(k, next);
        return this.tag(e.acceptor, reply);
      });
      return { type: "prepared", attempt: e.attempt, acceptor: e.acceptor, replies };
    }
    if (e.type === "accept") {
      const replies = e.entries.map((en) => {
        const { reply, next } = applyAccept(this.get(e.acceptor, en.key), en);
        this.recs[e.acceptor]!.set(en.key, next);
        return this.tag(e.acceptor, reply);
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

/** Delivers effects until the change is done; `drop` turns an effect into a failure. */
function drive<T>(
  c: Cluster,
  p: Proposer<T>,
  ctx: () => ProposerContext,
  first: ProposerEffect<T>[],
  drop: (e: ProposerEffect<T>) => boolean = () => false,
) {
  const queue = [...first];
  const seen: ProposerEffect<T>[] = [];
  while (queue.length > 0) {
    const e = queue.shift()!;
    seen.push(e);
    if (e.type === "done") return { outcome: e.outcome, seen };
    if (drop(e) && (e.type === "prepare" || e.type === "accept")) {
      const failed: ProposerEvent = {
        type: "failed",
        attempt: e.attempt,
        acceptor: e.acceptor,
        phase: e.type,
        error: "dropped",
      };
      queue.push(...p.step(failed, ctx()));
      continue;
    }
    const ev = c.deliver(e);
    if (ev) queue.push(...p.step(ev, ctx()));
  }
  return { outcome: null, seen };
}

const run = <T>(
  c: Cluster,
  p: Proposer<T>,
  ctx: () => ProposerContext,
  drop?: (e: ProposerEffect<T>) => boolean,
) => drive(c, p, ctx, p.start(ctx()), drop);

const inc: ChangeFn<number> = (cur) => ({ values: cur.map((v) => (v ?? 0) + 1) });

describe("Proposer with a rejoining (non-voting) store", () => {
  it("commits when both voting stores accept, the learner's answers aside", () => {
    const c = new Cluster(new Set([2]));
    const { outcome } = run(c, new Proposer(["a"], inc), ctxFor());
    expect(outcome).toMatchObject({ status: "ok", values: [1] });
    // The learner still stores what it is sent, so it catches up.
    expect(c.get(2, "a").value).toBe("1");
  });

  it("a learner's yes does not make a quorum: one voter and the learner cannot commit", () => {
    const c = new Cluster(new Set([2]));
    const down = (e: ProposerEffect<number>) => "acceptor" in e && e.acceptor === 1;
    const { outcome } = run(c, new Proposer(["a"], inc), ctxFor(), down);
    expect(outcome).toMatchObject({ status: "unavailable" });
    expect(c.get(0, "a").value).toBeNull();
  });

  it("an accept acked by one voter and the learner is not ok", () => {
    const c = new Cluster(new Set([2]));
    const acceptTo1 = (e: ProposerEffect<number>) => e.type === "accept" && e.acceptor === 1;
    const { outcome } = run(c, new Proposer(["a"], inc), ctxFor(), acceptTo1);
    expect(outcome).toMatchObject({ status: "unknown" });
  });

  it("the value the learner reports is not taken as current (it may be one nobody chose)", () => {
    const c = new Cluster(new Set([2]));
    // Accepted below our first ballot, so the learner promises it and reports 99.
    const low = encodeBallot({ counter: 1, proposer: "aa" });
    c.recs[2]!.set("a", { key: "a", promised: low, accepted: low, value: "99" });
    // The learner answers first (a prepare is decided as soon as two voters said yes).
    const p = new Proposer(["a"], inc);
    const ctx = ctxFor();
    const { outcome } = drive(c, p, ctx, p.start(ctx()).reverse());
    expect(outcome).toMatchObject({ status: "ok", values: [1] });
  });

  it("climbs above a learner's refusal when the voters alone cannot carry the change", () => {
    const c = new Cluster(new Set([2]));
    const mid = encodeBallot({ counter: 40, proposer: "zz" });
    const high = encodeBallot({ counter: 500, proposer: "zz" });
    c.recs[0]!.set("a", { key: "a", promised: mid, accepted: "", value: null });
    c.recs[2]!.set("a", { key: "a", promised: high, accepted: "", value: null });
    const { outcome, seen } = run(c, new Proposer(["a"], inc), ctxFor());
    expect(outcome).toMatchObject({ status: "ok", values: [1] });
    const last = seen.filter((e) => e.type === "prepare").at(-1)!;
    expect(last.type === "prepare" && last.request.ballot > high).toBe(true);
    expect(c.get(2, "a").value).toBe("1");
  });

  it("a learner's answer is evidence in the proof that an earlier accept landed nowhere", () => {
    const c = new Cluster(new Set([2]));
    const mine = ctxFor("p1");
    let calls = 0;
    const counted: ChangeFn<number> = (cur) => {
      calls++;
      return inc(cur);
    };
    const p = new Proposer(["a"], counted);
    // Attempt 1: the prepare goes through, every accept is lost.
    let effects = p.start(mine());
    const pending: ProposerEffect<number>[] = [];
    for (const e of effects) {
      const ev = c.deliver(e);
      if (ev) pending.push(...p.step(ev, mine()));
    }
    const accepts = pending.filter((e) => e.type === "accept");
    expect(accepts).toHaveLength(3);
    effects = accepts.flatMap((e) =>
      e.type === "accept"
        ? p.step(
            {
              type: "failed",
              attempt: e.attempt,
              acceptor: e.acceptor,
              phase: "accept",
              error: "x",
            },
            mine(),
          )
        : [],
    );
    // Another proposer writes 5 everywhere, below our fence.
    const other = run(c, new Proposer<number>(["a"], () => ({ values: [5] })), ctxFor("p2"));
    expect(other.outcome).toMatchObject({ status: "ok" });
    // Attempt 2: all three (the learner included) show p2's ballot: ours landed nowhere.
    const { outcome } = drive(c, p, mine, effects);
    expect(outcome).toMatchObject({ status: "ok", values: [6] });
    expect(calls).toBe(2);
  });

  it("a learner holding our earlier accept disproves its absence", () => {
    const c = new Cluster(new Set([2]));
    const mine = ctxFor("p1");
    const p = new Proposer(["a"], inc);
    // Attempt 1: our accept lands on the learner only.
    const onlyLearner = (e: ProposerEffect<number>) => e.type === "accept" && e.acceptor !== 2;
    const first = p.start(mine());
    const queue = [...first];
    let sleep: ProposerEffect<number> | undefined;
    while (queue.length > 0) {
      const e = queue.shift()!;
      if (e.type === "sleep") {
        sleep = e;
        break;
      }
      if (onlyLearner(e) && e.type === "accept") {
        queue.push(
          ...p.step(
            {
              type: "failed",
              attempt: e.attempt,
              acceptor: e.acceptor,
              phase: "accept",
              error: "x",
            },
            mine(),
          ),
        );
        continue;
      }
      const ev = c.deliver(e);
      if (ev) queue.push(...p.step(ev, mine()));
    }
    expect(sleep).toBeDefined();
    // Another proposer writes 5 on the voters only.
    const other = run(
      c,
      new Proposer<number>(["a"], () => ({ values: [5] })),
      ctxFor("p2"),
      (e) => e.type === "accept" && e.acceptor === 2,
    );
    expect(other.outcome).toMatchObject({ status: "ok" });
    const { outcome } = drive(c, p, mine, [sleep!]);
    expect(outcome).toMatchObject({ status: "unknown" });
  });
});
