import { describe, expect, it } from "vitest";
import { antiEntropy, disagreeingKeys } from "../../shared/quorum/anti-entropy.ts";
import { QuorumClient } from "../../shared/quorum/client.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { downStore as down, hungStore as hung } from "../support/broken-stores.ts";

function client(acceptors: AcceptorPort[], id = "t1", now: () => number = () => 1_000) {
  let seed = 1;
  return new QuorumClient({
    acceptors,
    proposerId: id,
    now,
    random: () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
    timeoutMs: 50,
  });
}

describe("QuorumClient", () => {
  it("writes to all three and reads back through a quorum", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    const c = client(accs);
    const out = await c.change<{ n: number }>(["x/1", "x/2"], () => ({
      values: [{ n: 1 }, { n: 2 }],
      result: "r",
    }));
    expect(out).toEqual({ status: "ok", values: [{ n: 1 }, { n: 2 }], result: "r" });
    for (const a of accs) expect((await a.read(["x/1"]))[0]?.value).toBe('{"n":1}');
    expect(await client(accs, "t2").get(["x/2", "x/3"], { consistency: "quorum" })).toEqual({
      status: "ok",
      values: [{ n: 2 }, null],
    });
  });

  it("commits with one store down or hung, and says unavailable with two", async () => {
    const a = new MemoryAcceptor();
    const b = new MemoryAcceptor();
    expect((await client([a, down, b]).change(["k"], () => ({ values: [1] }))).status).toBe("ok");
    expect(
      (await client([hung, a, b], "t3").change(["k"], (c) => ({ values: [(c[0] as number) + 1] })))
        .status,
    ).toBe("ok");
    const out = await client([a, down, hung], "t4").change(["k"], () => ({ values: [9] }));
    expect(out.status).toBe("unavailable");
    expect((await a.read(["k"]))[0]?.value).toBe("2");
  });

  it("aborts without changing anything and returns what it saw", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    await client(accs).change(["s"], () => ({ values: ["taken"] }));
    const out = await client(accs, "t2").change<string>(["s"], (cur) =>
      cur[0] === "taken" ? { abort: "seat taken" } : { values: ["mine"] },
    );
    expect(out).toEqual({ status: "aborted", reason: "seat taken", values: ["taken"] });
  });

  it("local reads see only the local store; quorum reads repair it", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    await client([down, accs[1]!, accs[2]!]).change(["r"], () => ({ values: ["v"] }));
    const local = client(accs, "t2");
    expect(await local.get(["r"], { consistency: "local" })).toEqual({
      status: "ok",
      values: [null],
    });
    expect(await local.get(["r"], { consistency: "quorum" })).toEqual({
      status: "ok",
      values: ["v"],
    });
    expect(await local.get(["r"], { consistency: "local" })).toEqual({
      status: "ok",
      values: ["v"],
    });
  });

  it("majority reads write nothing when two stores agree", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    await client(accs).change(["m"], () => ({ values: ["v"] }));
    const before = await Promise.all(accs.map((a) => a.read(["m"])));
    const reader = client([accs[0]!, accs[1]!, hung], "t2");
    expect(await reader.get(["m"], { consistency: "majority" })).toEqual({
      status: "ok",
      values: ["v"],
    });
    expect(await Promise.all(accs.map((a) => a.read(["m"])))).toEqual(before);
  });

  it("majority reads fall back to a repairing quorum read when the stores disagree", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    // Only stores 1 and 2 took the write: the first two answers (0 and 1) disagree.
    await client([down, accs[1]!, accs[2]!]).change(["d"], () => ({ values: ["v"] }));
    const reader = client(accs, "t2");
    expect(await reader.get(["d"], { consistency: "majority" })).toEqual({
      status: "ok",
      values: ["v"],
    });
    expect((await accs[0]!.read(["d"]))[0]?.value).toBe('"v"');
    expect(
      await client([accs[0]!, down, down], "t3").get(["d"], { consistency: "majority" }),
    ).toMatchObject({ status: "unavailable" });
  });

  it("rejects bad key lists", async () => {
    const c = client([new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()]);
    await expect(c.change([], () => ({ values: [] }))).rejects.toThrow(RangeError);
    await expect(c.change(["a", "a"], () => ({ values: [1, 1] }))).rejects.toThrow(RangeError);
    await expect(c.change(["has space"], () => ({ values: [1] }))).rejects.toThrow(RangeError);
    expect(
      () =>
        new QuorumClient({
          acceptors: [],
          proposerId: "x",
          now: Date.now,
          random: Math.random,
          sleep: async () => {},
        }),
    ).toThrow();
  });

  it("is warm after a change: the next one sends no prepare", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    let prepares = 0;
    const counted = accs.map((a) => ({
      ...a,
      prepare: (r: Parameters<MemoryAcceptor["prepare"]>[0]) => {
        prepares++;
        return a.prepare(r);
      },
      accept: a.accept.bind(a),
      deleteIf: a.deleteIf.bind(a),
      read: a.read.bind(a),
      scan: a.scan.bind(a),
      ping: a.ping.bind(a),
    }));
    const c = client(counted);
    await c.change(["w"], () => ({ values: [1] }));
    expect(prepares).toBe(3);
    expect(c.warmKeys).toBe(1);
    await c.change<number>(["w"], (cur) => ({ values: [(cur[0] ?? 0) + 1] }));
    expect(prepares).toBe(3);
    expect(await c.get(["w"], { consistency: "local" })).toEqual({ status: "ok", values: [2] });
  });

  it("local reads serve only committed values: a value one store took is checked first", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    // A change that reached only the local store (its coordinator died after one accept).
    await accs[0]!.accept([{ key: "g", ballot: "0000000000000005.dead", value: '"ghost"' }]);
    const reader = client(accs, "t2");
    const out = await reader.get<string>(["g"], { consistency: "local" });
    expect(out.status).toBe("ok");
    // Whatever it served is committed now: a majority of stores holds it.
    const value = out.status === "ok" ? JSON.stringify(out.values[0]) : "";
    const holding = (await Promise.all(accs.map((a) => a.read(["g"])))).filter(
      (r) => r[0]?.value === value,
    );
    expect(holding.length).toBeGreaterThanOrEqual(2);
  });

  it("local reads of a value known committed touch only the local store", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    await client(accs).change(["p"], () => ({ values: ["plan"] }));
    let peerReads = 0;
    const counted = accs.map((a, i) => ({
      prepare: a.prepare.bind(a),
      accept: a.accept.bind(a),
      deleteIf: a.deleteIf.bind(a),
      read: (keys: readonly string[]) => {
        if (i !== 0) peerReads++;
        return a.read(keys);
      },
      scan: a.scan.bind(a),
      ping: a.ping.bind(a),
    }));
    const reader = client(counted, "t2");
    expect(await reader.get(["p"], { consistency: "local" })).toEqual({
      status: "ok",
      values: ["plan"],
    });
    const first = peerReads;
    expect(first).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) {
      expect(await reader.get(["p"], { consistency: "local" })).toEqual({
        status: "ok",
        values: ["plan"],
      });
    }
    expect(peerReads).toBe(first);
    // A writer's own committed change is known committed too.
    const writer = client(counted, "t3");
    await writer.change(["q"], () => ({ values: [1] }));
    const before = peerReads;
    expect(await writer.get(["q"], { consistency: "local" })).toEqual({
      status: "ok",
      values: [1],
    });
    expect(peerReads).toBe(before);
  });

  it("a write on a promise another instance's read overtook is a clean retry, not unknown", async () => {
    // A's quorum read leaves it a warm promise; B's quorum read writes the value back above it;
    // A's write on the stale promise is refused by all three. Its retry's prepare shows B's
    // ballot below the fence of A's refused accept everywhere, so A's value landed nowhere and
    // the write simply runs again on what it reads. Both a frozen clock and a moving one.
    const moving = { t: 1_000 };
    const clocks = [() => 1_000, () => moving.t];
    for (const [i, now] of clocks.entries()) {
      const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
      const a = client(accs, "a", now);
      const b = client(accs, "b", now);
      for (let round = 0; round < 5; round++) {
        const key = `k/${i}/${round}`;
        await a.change([key], () => ({ values: ["v0"] }));
        expect(await a.get([key])).toEqual({ status: "ok", values: ["v0"] });
        moving.t += 5;
        expect(await b.get([key])).toEqual({ status: "ok", values: ["v0"] });
        moving.t += 5;
        let calls = 0;
        const out = await a.change<string>([key], (cur) => {
          calls++;
          return cur[0] === "v0" ? { values: ["v1"] } : { abort: "changed" };
        });
        expect(out).toEqual({ status: "ok", values: ["v1"], result: undefined });
        expect(calls).toBe(2);
        expect(await b.get([key])).toEqual({ status: "ok", values: ["v1"] });
        for (const acc of accs) expect((await acc.read([key]))[0]?.value).toBe('"v1"');
      }
    }
  });
});

describe("anti-entropy", () => {
  it("finds keys whose records differ or are missing (pure)", () => {
    const rec = (key: string, accepted: string) => ({
      key,
      promised: accepted,
      accepted,
      value: "1",
    });
    expect(
      disagreeingKeys([
        [rec("a", "b1"), rec("b", "b1"), rec("c", "b1")],
        [rec("a", "b1"), rec("b", "b2")],
        [rec("a", "b1"), rec("b", "b1"), rec("c", "b1"), rec("d", "b1")],
      ]),
    ).toEqual(["b", "c", "d"]);
    expect(disagreeingKeys([[rec("a", "x")], null, [rec("a", "x")]])).toEqual([]);
    expect(disagreeingKeys([[rec("a", "x"), rec("z", "x")], [rec("a", "x")], []], "m")).toEqual([
      "a",
    ]);
  });

  it("repairs a store that missed writes", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    const writer = client([accs[0]!, accs[1]!, down]);
    for (let i = 0; i < 5; i++) await writer.change([`ae/${i}`], () => ({ values: [i] }));
    const c = client(accs, "sweeper");
    const first = await antiEntropy(c, accs, "ae/", { limit: 100 });
    expect(first).toMatchObject({
      scanned: 5,
      disagreeing: 5,
      repaired: 5,
      failed: 0,
      unreachable: [],
    });
    expect((await accs[2]!.read(["ae/3"]))[0]?.value).toBe("3");
    const second = await antiEntropy(c, accs, "ae/");
    expect(second.disagreeing).toBe(0);
  });
});
