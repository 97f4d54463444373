import { describe, expect, it } from "vitest";
import { BallotAllocator } from "../../shared/quorum/allocator.ts";
import { COUNTER_MAX, encodeBallot } from "../../shared/quorum/ballot.ts";
import { PromiseCache } from "../../shared/quorum/cache.ts";
import type { AcceptReply, BallotString, PrepareReply } from "../../shared/quorum/messages.ts";
import {
  type ChangeFn,
  DEFAULT_PROPOSER_OPTIONS,
  Proposer,
  type ProposerContext,
  type ProposerEffect,
  type ProposerOptions,
  parseValue,
  serialize,
} from "../../shared/quorum/proposer.ts";

/**
 * The proposer driven by hand, one reply at a time, with replies written out rather than computed
 * by acceptors: each test pins one rule (a guard, a proof step, an outcome's wording) that the
 * simulator reaches too rarely for mutation testing to see (docs/quorum.md, "Mutation testing").
 */

function harness(opts: Partial<ProposerOptions> = {}, id = "p1") {
  const allocator = new BallotAllocator(id);
  const cache = new PromiseCache();
  let now = 0;
  const ctx = (): ProposerContext => ({ allocator, cache, now, random: 0.5 });
  return {
    allocator,
    cache,
    ctx,
    at(ms: number) {
      now = ms;
    },
    make<T>(keys: string[], f: ChangeFn<T>) {
      return new Proposer<T>(keys, f, { ...DEFAULT_PROPOSER_OPTIONS, ...opts });
    },
  };
}

const granted = (key: string, accepted: BallotString = "", value: string | null = null) =>
  ({ ok: true, key, accepted, value }) as PrepareReply;
const refusedP = (key: string, conflict: BallotString) =>
  ({ ok: false, key, conflict }) as PrepareReply;
const acked = (key: string, learner = false) =>
  (learner ? { ok: true, key, learner } : { ok: true, key }) as AcceptReply;
const refusedA = (key: string, conflict: BallotString) =>
  ({ ok: false, key, conflict }) as AcceptReply;

function prepared(attempt: number, acceptor: number, replies: PrepareReply[]) {
  return { type: "prepared" as const, attempt, acceptor, replies };
}
function accepted(attempt: number, acceptor: number, replies: AcceptReply[]) {
  return { type: "accepted" as const, attempt, acceptor, replies };
}
function failed(attempt: number, acceptor: number, phase: "prepare" | "accept") {
  return { type: "failed" as const, attempt, acceptor, phase, error: "down" };
}
const types = <T>(effects: ProposerEffect<T>[]) => effects.map((e) => e.type);
const outcomeOf = <T>(effects: ProposerEffect<T>[]) => {
  const d = effects.find((e) => e.type === "done");
  return d?.type === "done" ? d.outcome : undefined;
};
const acceptOf = <T>(effects: ProposerEffect<T>[]) => {
  const a = effects.find((e) => e.type === "accept");
  if (a?.type !== "accept") throw new Error(`no accept in ${types(effects).join(",")}`);
  return a;
};

const set7: ChangeFn<number> = () => ({ values: [7] });

describe("Proposer edges", () => {
  it("serialize maps null and undefined to no value; parseValue(null) is null", () => {
    expect(serialize(null)).toBeNull();
    expect(serialize(undefined)).toBeNull();
    expect(serialize(0)).toBe("0");
    expect(parseValue(null)).toBeNull();
    expect(parseValue<number[]>("[1]")).toEqual([1]);
  });

  it("start runs once; a step after the end does nothing, even past the change's lifetime", () => {
    const h = harness();
    const p = h.make(["a"], set7);
    expect(types(p.start(h.ctx()))).toEqual(["prepare", "prepare", "prepare"]);
    expect(p.start(h.ctx())).toEqual([]);
    p.step(prepared(1, 0, [granted("a")]), h.ctx());
    p.step(prepared(1, 1, [granted("a")]), h.ctx());
    p.step(accepted(1, 0, [acked("a")]), h.ctx());
    const end = p.step(accepted(1, 1, [acked("a")]), h.ctx());
    expect(outcomeOf(end)).toMatchObject({ status: "ok", values: [7] });
    h.at(DEFAULT_PROPOSER_OPTIONS.changeLifetimeMs * 10);
    expect(p.step(accepted(1, 2, [acked("a")]), h.ctx())).toEqual([]);
    expect(p.step({ type: "woke", attempt: 1 }, h.ctx())).toEqual([]);
  });

  it("a reply of an earlier attempt is not counted in the current one", () => {
    const h = harness();
    const p = h.make(["a"], set7);
    p.start(h.ctx());
    const high = encodeBallot({ counter: 50, proposer: "zz" });
    p.step(prepared(1, 0, [refusedP("a", high)]), h.ctx());
    const lost = p.step(prepared(1, 1, [refusedP("a", high)]), h.ctx());
    expect(types(lost)).toEqual(["sleep"]);
    expect(types(p.step({ type: "woke", attempt: 1 }, h.ctx()))).toEqual([
      "prepare",
      "prepare",
      "prepare",
    ]);
    // Acceptor 2's grant for attempt 1 arrives late: attempt 2 must still wait for two of its own.
    expect(p.step(prepared(1, 2, [granted("a")]), h.ctx())).toEqual([]);
    expect(p.step(prepared(2, 0, [granted("a")]), h.ctx())).toEqual([]);
    expect(types(p.step(prepared(2, 1, [granted("a")]), h.ctx()))).toEqual([
      "accept",
      "accept",
      "accept",
    ]);
  });

  it("events of the wrong phase are ignored: woke while preparing, accepted while preparing, a failed accept while preparing", () => {
    const h = harness();
    const p = h.make(["a"], set7);
    p.start(h.ctx());
    expect(p.step({ type: "woke", attempt: 1 }, h.ctx())).toEqual([]);
    const high = encodeBallot({ counter: 50, proposer: "zz" });
    expect(p.step(accepted(1, 0, [refusedA("a", high)]), h.ctx())).toEqual([]);
    expect(p.step(failed(1, 1, "accept"), h.ctx())).toEqual([]);
    // None of them used up acceptor 0's or 1's vote: two grants still make the round.
    expect(p.step(prepared(1, 0, [granted("a")]), h.ctx())).toEqual([]);
    expect(types(p.step(prepared(1, 1, [granted("a")]), h.ctx()))).toEqual([
      "accept",
      "accept",
      "accept",
    ]);
  });

  it("each acceptor votes once: a second, different reply from the same acceptor is ignored", () => {
    const h = harness();
    const p = h.make(["a"], set7);
    p.start(h.ctx());
    p.step(prepared(1, 0, [granted("a")]), h.ctx());
    const high = encodeBallot({ counter: 50, proposer: "zz" });
    expect(p.step(prepared(1, 0, [refusedP("a", high)]), h.ctx())).toEqual([]);
    const acc = p.step(prepared(1, 1, [granted("a")]), h.ctx());
    expect(types(acc)).toEqual(["accept", "accept", "accept"]);
    p.step(accepted(1, 0, [acked("a")]), h.ctx());
    expect(p.step(accepted(1, 0, [refusedA("a", high)]), h.ctx())).toEqual([]);
    expect(p.step(failed(1, 0, "accept"), h.ctx())).toEqual([]);
    expect(outcomeOf(p.step(accepted(1, 1, [acked("a")]), h.ctx()))).toMatchObject({
      status: "ok",
    });
  });

  it("the lifetime is exclusive: a step exactly one lifetime after the start still counts", () => {
    const life = DEFAULT_PROPOSER_OPTIONS.changeLifetimeMs;
    const h = harness();
    const p = h.make(["a"], set7);
    p.start(h.ctx());
    h.at(life);
    p.step(prepared(1, 0, [granted("a")]), h.ctx());
    expect(types(p.step(prepared(1, 1, [granted("a")]), h.ctx()))).toContain("accept");
    h.at(life + 1);
    expect(outcomeOf(p.step(accepted(1, 0, [acked("a")]), h.ctx()))).toEqual({
      status: "unknown",
      reason: "the change outlived its lifetime after sending accepts",
    });
    const q = h.make(["b"], set7);
    h.at(0);
    q.start(h.ctx());
    h.at(-life - 1); // a clock stepped back ages a change too
    expect(outcomeOf(q.step(prepared(1, 0, [granted("b")]), h.ctx()))).toEqual({
      status: "unavailable",
      reason: "the change outlived its lifetime",
    });
  });

  it("malformed replies (wrong count or wrong keys) count as failures, in either phase", () => {
    const h = harness();
    const p = h.make(["a", "b"], () => ({ values: [1, 2] }));
    p.start(h.ctx());
    expect(p.step(prepared(1, 0, [granted("a")]), h.ctx())).toEqual([]);
    const lost = p.step(prepared(1, 1, [granted("a"), granted("c")]), h.ctx());
    expect(types(lost)).toEqual(["sleep"]);
    p.step({ type: "woke", attempt: 1 }, h.ctx());
    p.step(prepared(2, 0, [granted("a"), granted("b")]), h.ctx());
    p.step(prepared(2, 1, [granted("a"), granted("b")]), h.ctx());
    expect(p.step(accepted(2, 0, [acked("a"), acked("b"), acked("c")]), h.ctx())).toEqual([]);
    expect(types(p.step(accepted(2, 1, [acked("a")]), h.ctx()))).toEqual(["sleep"]);
  });

  it("runs out of ballots as unavailable, before sending anything", () => {
    const h = harness();
    h.at(COUNTER_MAX + 1);
    const p = h.make(["a"], set7);
    expect(p.start(h.ctx())).toEqual([
      { type: "done", outcome: { status: "unavailable", reason: "ballot space exhausted" } },
    ]);
  });

  it("no ballot left for the next promise: unavailable if nothing was sent, unknown once accepts were", () => {
    const h = harness();
    const p = h.make(["a"], set7);
    h.at(COUNTER_MAX - 1);
    p.start(h.ctx()); // prepares at COUNTER_MAX - 1; the next promise needs two above it
    p.step(prepared(1, 0, [granted("a")]), h.ctx());
    expect(outcomeOf(p.step(prepared(1, 1, [granted("a")]), h.ctx()))).toEqual({
      status: "unavailable",
      reason: "ballot space exhausted",
    });
    const h2 = harness();
    h2.at(COUNTER_MAX - 3);
    const q = h2.make(["a"], set7);
    q.start(h2.ctx()); // COUNTER_MAX - 3, next promise at - 1
    q.step(prepared(1, 0, [granted("a")]), h2.ctx());
    acceptOf(q.step(prepared(1, 1, [granted("a")]), h2.ctx()));
    q.step(failed(1, 0, "accept"), h2.ctx());
    expect(types(q.step(failed(1, 1, "accept"), h2.ctx()))).toEqual(["sleep"]);
    q.step({ type: "woke", attempt: 1 }, h2.ctx()); // prepares at COUNTER_MAX
    q.step(prepared(2, 0, [granted("a")]), h2.ctx());
    expect(outcomeOf(q.step(prepared(2, 1, [granted("a")]), h2.ctx()))).toEqual({
      status: "unknown",
      reason: "ballot space exhausted after sending accepts",
    });
  });

  it("every accept carries the next promise, which a won change leaves warm for the keys", () => {
    const h = harness();
    const p = h.make(["a", "b"], () => ({ values: [1, 2] }));
    p.start(h.ctx());
    p.step(prepared(1, 0, [granted("a"), granted("b")]), h.ctx());
    const acc = acceptOf(p.step(prepared(1, 1, [granted("a"), granted("b")]), h.ctx()));
    const next = acc.entries[0]!.next!;
    expect(next > acc.entries[0]!.ballot).toBe(true);
    expect(acc.entries.map((e) => e.next)).toEqual([next, next]);
    p.step(accepted(1, 0, [acked("a"), acked("b")]), h.ctx());
    p.step(accepted(1, 1, [acked("a"), acked("b")]), h.ctx());
    expect(h.cache.take("a")).toMatchObject({ ballot: next, value: "1" });
  });

  it("an accept refused with our own ballot is the echo of our stored accept; a foreign conflict is a refusal", () => {
    const h = harness();
    const p = h.make(["a"], set7);
    p.start(h.ctx());
    p.step(prepared(1, 0, [granted("a")]), h.ctx());
    const acc = acceptOf(p.step(prepared(1, 1, [granted("a")]), h.ctx()));
    const ours = acc.entries[0]!.ballot;
    p.step(accepted(1, 0, [refusedA("a", ours)]), h.ctx());
    expect(outcomeOf(p.step(accepted(1, 1, [acked("a")]), h.ctx()))).toMatchObject({
      status: "ok",
    });

    const q = h.make(["b"], set7);
    q.start(h.ctx());
    q.step(prepared(1, 0, [granted("b")]), h.ctx());
    q.step(prepared(1, 1, [granted("b")]), h.ctx());
    const high = encodeBallot({ counter: 1_000, proposer: "zz" });
    q.step(accepted(1, 0, [refusedA("b", high)]), h.ctx());
    expect(types(q.step(accepted(1, 1, [refusedA("b", high)]), h.ctx()))).toEqual(["sleep"]);
  });

  it("a learner's accept is not a vote", () => {
    const h = harness();
    const p = h.make(["a"], set7);
    p.start(h.ctx());
    p.step(prepared(1, 0, [granted("a")]), h.ctx());
    p.step(prepared(1, 1, [granted("a")]), h.ctx());
    p.step(accepted(1, 0, [acked("a", true)]), h.ctx());
    expect(p.step(accepted(1, 1, [acked("a")]), h.ctx())).toEqual([]);
    expect(outcomeOf(p.step(accepted(1, 2, [acked("a")]), h.ctx()))).toMatchObject({
      status: "ok",
    });
  });

  it("adoptFirstRead (the simulator's adopt-highest break) adopts the first grant, not the highest", () => {
    const lo = encodeBallot({ counter: 3, proposer: "zz" });
    const hi = encodeBallot({ counter: 9, proposer: "zz" });
    for (const [adoptFirstRead, seen] of [
      [false, 2],
      [true, 1],
    ] as const) {
      const h = harness({ adoptFirstRead });
      let read: unknown;
      const p = h.make<number>(["a"], (cur) => {
        read = cur[0];
        return { values: cur };
      });
      p.start(h.ctx());
      p.step(prepared(1, 0, [granted("a", lo, "1")]), h.ctx());
      p.step(prepared(1, 1, [granted("a", hi, "2")]), h.ctx());
      expect(read).toBe(seen);
    }
  });

  it("a stored value that is not JSON makes the change unavailable, sending nothing", () => {
    const h = harness();
    const p = h.make(["a"], set7);
    p.start(h.ctx());
    p.step(
      prepared(1, 0, [granted("a", encodeBallot({ counter: 1, proposer: "zz" }), "{x")]),
      h.ctx(),
    );
    expect(p.step(prepared(1, 1, [granted("a")]), h.ctx())).toEqual([
      {
        type: "done",
        outcome: { status: "unavailable", reason: "a stored value is not valid JSON" },
      },
    ]);
  });

  it("a change function that throws, returns the wrong count, or edits its input aborts cleanly", () => {
    const run = (f: ChangeFn<number>) => {
      const h = harness();
      const p = h.make<number>(["a"], f);
      p.start(h.ctx());
      p.step(
        prepared(1, 0, [granted("a", encodeBallot({ counter: 1, proposer: "zz" }), "5")]),
        h.ctx(),
      );
      const acc = acceptOf(p.step(prepared(1, 1, [granted("a")]), h.ctx()));
      expect(acc.entries[0]!.value).toBe("5"); // the value read, written back
      p.step(accepted(1, 0, [acked("a")]), h.ctx());
      const out = outcomeOf(p.step(accepted(1, 1, [acked("a")]), h.ctx()));
      expect(p.chosen).toBeNull();
      return out;
    };
    expect(
      run(() => {
        throw new Error("boom");
      }),
    ).toEqual({ status: "aborted", reason: "boom", values: [5] });
    expect(
      run(() => {
        throw "plain";
      }),
    ).toEqual({ status: "aborted", reason: "plain", values: [5] });
    expect(run(() => ({ values: [1, 2] }))).toEqual({
      status: "aborted",
      reason: "change returned the wrong number of values",
      values: [5],
    });
    expect(run(() => ({ values: "x" }) as never)).toMatchObject({ status: "aborted" });
    expect(
      run((cur) => {
        cur[0] = 99;
        return { abort: "changed my mind" };
      }),
    ).toEqual({ status: "aborted", reason: "changed my mind", values: [5] });
  });

  it("an abort whose write-back fails is unavailable, not unknown: nothing new was sent", () => {
    const h = harness({ maxAttempts: 1 });
    const p = h.make<number>(["a"], () => ({ abort: "no" }));
    p.start(h.ctx());
    p.step(prepared(1, 0, [granted("a")]), h.ctx());
    p.step(prepared(1, 1, [granted("a")]), h.ctx());
    p.step(failed(1, 0, "accept"), h.ctx());
    expect(outcomeOf(p.step(failed(1, 1, "accept"), h.ctx()))).toMatchObject({
      status: "unavailable",
    });
  });

  it("chosen names what a quorum accepted only when the change altered something", () => {
    const old = encodeBallot({ counter: 1, proposer: "zz" });
    const run = (f: ChangeFn<number>) => {
      const h = harness();
      const p = h.make<number>(["a", "b"], f);
      p.start(h.ctx());
      p.step(prepared(1, 0, [granted("a", old, "1"), granted("b", old, "1")]), h.ctx());
      p.step(prepared(1, 1, [granted("a", old, "1"), granted("b", old, "1")]), h.ctx());
      p.step(accepted(1, 0, [acked("a"), acked("b")]), h.ctx());
      expect(outcomeOf(p.step(accepted(1, 1, [acked("a"), acked("b")]), h.ctx()))).toMatchObject({
        status: "ok",
      });
      return p.chosen;
    };
    expect(run((cur) => ({ values: cur }))).toBeNull();
    expect(run(() => ({ values: [1, 2] }))?.map((e) => e.value)).toEqual(["1", "2"]);
  });

  it("gives up after exactly maxAttempts, naming contention or unreachability", () => {
    const high = encodeBallot({ counter: 1_000, proposer: "zz" });
    for (const refuse of [true, false]) {
      const h = harness({ maxAttempts: 3 });
      const p = h.make(["a"], set7);
      p.start(h.ctx());
      let end: ProposerEffect<number>[] = [];
      let prepares = 0;
      for (let attempt = 1; attempt <= 5 && !outcomeOf(end); attempt++) {
        prepares++;
        const reply = (a: number) =>
          refuse ? prepared(attempt, a, [refusedP("a", high)]) : failed(attempt, a, "prepare");
        p.step(reply(0), h.ctx());
        end = p.step(reply(1), h.ctx());
        if (end[0]?.type === "sleep") p.step({ type: "woke", attempt }, h.ctx());
      }
      expect(prepares).toBe(3);
      expect(outcomeOf(end)).toEqual({
        status: "unavailable",
        reason: refuse
          ? "contention: competing proposers kept refusing our ballots"
          : "unreachable: fewer than two acceptors answered",
      });
    }
  });

  it("after accepts that no quorum confirmed, running out of attempts is unknown", () => {
    const h = harness({ maxAttempts: 1 });
    const p = h.make(["a"], set7);
    p.start(h.ctx());
    p.step(prepared(1, 0, [granted("a")]), h.ctx());
    p.step(prepared(1, 1, [granted("a")]), h.ctx());
    p.step(accepted(1, 0, [acked("a")]), h.ctx());
    p.step(failed(1, 1, "accept"), h.ctx());
    expect(outcomeOf(p.step(failed(1, 2, "accept"), h.ctx()))).toEqual({
      status: "unknown",
      reason: "accepts were sent but a quorum did not confirm them",
    });
  });

  it("backs off from the time the lost attempt took, not from the clock's reading", () => {
    const h = harness();
    h.at(5_000_000);
    const p = h.make(["a"], set7);
    p.start(h.ctx());
    p.step(failed(1, 0, "prepare"), h.ctx());
    const [sleep] = p.step(failed(1, 1, "prepare"), h.ctx());
    expect(sleep).toMatchObject({ type: "sleep" });
    expect(sleep?.type === "sleep" && sleep.ms).toBeLessThanOrEqual(
      DEFAULT_PROPOSER_OPTIONS.backoffBaseMs,
    );
  });
});

/**
 * The retry of a change whose accepts may have landed (taint): values re-proposed unchanged while
 * every key shows ours or the value f read, f re-run only on proof of absence from all three.
 */
describe("Proposer retry after uncertain accepts", () => {
  /** Attempt 1 reads nothing, proposes f's value, and every accept fails: a taint, attempt 2. */
  function tainted(f: ChangeFn<number>, opts: Partial<ProposerOptions> = {}) {
    const h = harness(opts);
    const p = h.make<number>(["a"], f);
    p.start(h.ctx());
    p.step(prepared(1, 0, [granted("a")]), h.ctx());
    const acc1 = acceptOf(p.step(prepared(1, 1, [granted("a")]), h.ctx()));
    p.step(failed(1, 0, "accept"), h.ctx());
    expect(types(p.step(failed(1, 1, "accept"), h.ctx()))).toEqual(["sleep"]);
    p.step({ type: "woke", attempt: 1 }, h.ctx());
    return { h, p, acc1 };
  }
  const counting = () => {
    const calls = { n: 0 };
    const f: ChangeFn<number> = (cur) => {
      calls.n++;
      return { values: [(cur[0] ?? 0) + 1] };
    };
    return { calls, f };
  };

  it("the value f read is still there: re-propose the same values without running f again", () => {
    const { calls, f } = counting();
    const { h, p } = tainted(f);
    p.step(prepared(2, 0, [granted("a")]), h.ctx());
    const acc = acceptOf(p.step(prepared(2, 1, [granted("a")]), h.ctx()));
    expect(acc.entries[0]!.value).toBe("1");
    expect(calls.n).toBe(1);
  });

  it("another writer's value on top and ours on one acceptor: unknown, never a lost update", () => {
    const { f } = counting();
    const { h, p, acc1 } = tainted(f);
    const ours = acc1.entries[0]!.ballot;
    const theirs = encodeBallot({ counter: 500, proposer: "zz" });
    p.step(prepared(2, 0, [granted("a", ours, "1")]), h.ctx());
    expect(p.step(prepared(2, 1, [granted("a", theirs, "40")]), h.ctx())).toEqual([]);
    expect(outcomeOf(p.step(prepared(2, 2, [granted("a", theirs, "40")]), h.ctx()))).toEqual({
      status: "unknown",
      reason: "an earlier attempt may have committed and was overtaken by another writer",
    });
  });

  it("a value at exactly the fence of our accept disproves absence", () => {
    const { calls, f } = counting();
    const { h, p, acc1 } = tainted(f);
    const fence = acc1.entries[0]!.next!;
    for (const a of [0, 1]) p.step(prepared(2, a, [granted("a", fence, "40")]), h.ctx());
    expect(outcomeOf(p.step(prepared(2, 2, [granted("a", fence, "40")]), h.ctx()))).toMatchObject({
      status: "unknown",
    });
    expect(calls.n).toBe(1);
  });

  it("proven absent on all three (a foreign ballot below the fence): f runs afresh", () => {
    const { calls, f } = counting();
    const { h, p } = tainted(f);
    const below = encodeBallot({ counter: 2, proposer: "zz" });
    p.step(prepared(2, 0, [granted("a", below, "40")]), h.ctx());
    p.step(prepared(2, 1, [granted("a", below, "40")]), h.ctx());
    const acc = acceptOf(p.step(prepared(2, 2, [granted("a", below, "40")]), h.ctx()));
    expect(acc.entries[0]!.value).toBe("41");
    expect(calls.n).toBe(2);
  });

  it("a third acceptor that refused the prepare may still prove it: retry; one that failed cannot: unknown", () => {
    // (A refusal and a failure never meet in one proof: every key needs two grants to get here.)
    const below = encodeBallot({ counter: 2, proposer: "zz" });
    const high = encodeBallot({ counter: 900, proposer: "zz" });
    for (const third of ["no", "failed"] as const) {
      const { f } = counting();
      const { h, p } = tainted(f);
      p.step(prepared(2, 0, [granted("a", below, "40")]), h.ctx());
      p.step(prepared(2, 1, [granted("a", below, "40")]), h.ctx());
      const out = p.step(
        third === "no" ? prepared(2, 2, [refusedP("a", high)]) : failed(2, 2, "prepare"),
        h.ctx(),
      );
      if (third === "no") expect(types(out)).toEqual(["sleep"]);
      else expect(outcomeOf(out)).toMatchObject({ status: "unknown" });
    }
  });

  it("the lowest fence of all accepts sent is kept: a ballot between the first and a later fence still disproves", () => {
    const { calls, f } = counting();
    const { h, p, acc1 } = tainted(f);
    const fence1 = acc1.entries[0]!.next!;
    // Attempt 2 re-proposes (nothing new on top), and fails again, with a higher fence.
    p.step(prepared(2, 0, [granted("a")]), h.ctx());
    const acc2 = acceptOf(p.step(prepared(2, 1, [granted("a")]), h.ctx()));
    const fence2 = acc2.entries[0]!.next!;
    p.step(failed(2, 0, "accept"), h.ctx());
    p.step(failed(2, 1, "accept"), h.ctx());
    p.step({ type: "woke", attempt: 2 }, h.ctx());
    const between = encodeBallot({ counter: Number(fence1.slice(0, 16)), proposer: "zz" });
    expect(between > fence1 && between < fence2).toBe(true);
    for (const a of [0, 1]) p.step(prepared(3, a, [granted("a", between, "40")]), h.ctx());
    expect(outcomeOf(p.step(prepared(3, 2, [granted("a", between, "40")]), h.ctx()))).toMatchObject(
      { status: "unknown" },
    );
    expect(calls.n).toBe(1);
  });

  it("a learner's grant showing ours is evidence that it landed", () => {
    const { f } = counting();
    const { h, p, acc1 } = tainted(f);
    const ours = acc1.entries[0]!.ballot;
    const below = encodeBallot({ counter: 2, proposer: "zz" });
    p.step(prepared(2, 0, [granted("a", below, "40")]), h.ctx());
    p.step(prepared(2, 1, [granted("a", below, "40")]), h.ctx());
    const learner = { ...granted("a", ours, "1"), learner: true } as PrepareReply;
    expect(outcomeOf(p.step(prepared(2, 2, [learner]), h.ctx()))).toMatchObject({
      status: "unknown",
    });
  });
});
