import { describe, expect, it } from "vitest";
import { QuorumClient, type QuorumClientOptions } from "../../shared/quorum/client.ts";
import type { AcceptEntry } from "../../shared/quorum/messages.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { downStore as down, hungStore as hung } from "../support/broken-stores.ts";

const sleeps: number[] = [];
function client(acceptors: AcceptorPort[], more: Partial<QuorumClientOptions> = {}) {
  return new QuorumClient({
    acceptors,
    proposerId: "t1",
    now: () => 1_000,
    random: () => 0.5,
    sleep: (ms) => {
      sleeps.push(ms);
      return new Promise((r) => setTimeout(r, Math.min(ms, 5)));
    },
    timeoutMs: 50,
    ...more,
  });
}
const three = () => [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];

describe("QuorumClient edges", () => {
  it("needs exactly three stores, and 1 to 100 distinct keys per change", async () => {
    expect(() => client([new MemoryAcceptor()])).toThrow("QuorumClient needs exactly 3 acceptors");
    const c = client(three());
    const keys = Array.from({ length: 101 }, (_, i) => `k/${i}`);
    await expect(c.change(keys, (cur) => ({ values: cur }))).rejects.toThrow(
      "at most 100 keys per change",
    );
    const hundred = await c.change(keys.slice(0, 100), (cur) => ({ values: cur }));
    expect(hundred.status).toBe("ok");
  });

  it("local reads go to the majority when the local store cannot answer", async () => {
    const [a, b] = three();
    await client([a!, b!, down]).change(["k"], () => ({ values: [7] }));
    expect(await client([down, a!, b!]).get(["k"], { consistency: "local" })).toEqual({
      status: "ok",
      values: [7],
    });
    expect(await client([hung, a!, b!]).get(["k"], { consistency: "local" })).toEqual({
      status: "ok",
      values: [7],
    });
    expect(sleeps).toContain(50);
    expect(
      await client([down, hung, a!], { maxAttempts: 1 }).get(["k"], { consistency: "local" }),
    ).toMatchObject({ status: "unavailable" });
    a!.records.delete("k");
    a!.records.set("k", { key: "k", promised: "", accepted: "", value: "{not json" });
    expect(await client([a!, b!, down]).get(["k"], { consistency: "local" })).toEqual({
      status: "unavailable",
      reason: "a stored value is not valid JSON",
    });
  });

  it("majority reads answer from two agreeing stores without a change, else run one", async () => {
    const accs = three();
    await client(accs).change(["k"], () => ({ values: [1] }));
    const promised = accs.map((a) => a.records.get("k")!.promised);
    const agreed = await client(accs, { proposerId: "t2" }).get(["k"], { consistency: "majority" });
    expect(agreed).toEqual({ status: "ok", values: [1] });
    // No prepare ran: every store still holds the promise it had.
    expect(accs.map((a) => a.records.get("k")!.promised)).toEqual(promised);

    // One store missed the write: the first two to answer disagree, so a quorum change decides.
    const lag = three();
    await client([lag[0]!, lag[1]!, down]).change(["k"], () => ({ values: [2] }));
    const r = await client([lag[2]!, lag[0]!, lag[1]!], { proposerId: "t3" }).get(["k"], {
      consistency: "majority",
    });
    expect(r).toEqual({ status: "ok", values: [2] });
    expect(lag[2]!.records.get("k")?.value).toBe("2");

    // Two stores down: no majority, and the fallback change cannot reach a quorum either.
    const two = await client([down, down, accs[0]!], { proposerId: "t4" }).get(["k"], {
      consistency: "majority",
    });
    expect(two.status).toBe("unavailable");
  });

  it("tells onChosen what it chose, and only when a change committed", async () => {
    const chosen: (readonly AcceptEntry[])[] = [];
    const onChosen = async (e: readonly AcceptEntry[]) => {
      chosen.push(e);
    };
    const accs = three();
    const ok = await client(accs, { onChosen }).change(["k"], () => ({ values: [3] }));
    expect(ok.status).toBe("ok");
    expect(chosen).toHaveLength(1);
    expect(chosen[0]!.map((e) => [e.key, e.value])).toEqual([["k", "3"]]);
    const failed = await client([down, down, accs[0]!], { onChosen, proposerId: "t5" }).change(
      ["k"],
      () => ({ values: [4] }),
    );
    expect(failed.status).not.toBe("ok");
    expect(chosen).toHaveLength(1);
  });

  it("refuses an invalid key on reads too, before any store call", async () => {
    const c = client([down, down, down]);
    await expect(c.get(["bad key"], { consistency: "majority" })).rejects.toThrow("invalid key");
    await expect(c.get([], { consistency: "local" })).rejects.toThrow("at least one key");
    let calls = 0;
    const counted = three().map(
      (a): AcceptorPort =>
        Object.assign(Object.create(a), {
          read: (k: readonly string[]) => {
            calls++;
            return a.read(k);
          },
        }),
    );
    for (const consistency of ["local", "majority"] as const) {
      await expect(client(counted).get(["bad key"], { consistency })).rejects.toThrow(RangeError);
    }
    expect(calls).toBe(0);
  });

  it("a local read serves keys known chosen from its store and the rest from a majority, in order", async () => {
    const stores = three();
    const mine = client(stores, { proposerId: "t8" });
    await mine.change(["k1", "k2", "k3"], () => ({ values: [1, 2, 3] }));
    // Another coordinator moves k2 on: this instance has not seen that ballot chosen.
    await client(stores, { proposerId: "t9" }).change(["k2"], () => ({ values: [20] }));
    expect(await mine.get(["k1", "k2", "k3"], { consistency: "local" })).toEqual({
      status: "ok",
      values: [1, 20, 3],
    });
  });

  it("a local read answers unavailable, never throws, on a stored value that is not JSON", async () => {
    const stores = three();
    const mine = client(stores, { proposerId: "t10" });
    await mine.change(["k1", "k2"], () => ({ values: [1, 2] }));
    await client(stores, { proposerId: "t11" }).change(["k2"], () => ({ values: [20] }));
    const r = stores[0]!.records.get("k1")!;
    stores[0]!.records.set("k1", { ...r, value: "{not json" });
    expect(await mine.get(["k1", "k2"], { consistency: "local" })).toEqual({
      status: "unavailable",
      reason: "a stored value is not valid JSON",
    });
  });

  it("a local read never trusts its own store while it rejoins, not even its empty records", async () => {
    const [a, b, c] = three();
    await client([down, b!, c!]).change(["k"], () => ({ values: [7] }));
    // The own store lost the write (restored from a backup) and says so on every reply.
    const rejoining: AcceptorPort = Object.assign(Object.create(a!), {
      read: async (k: readonly string[]) =>
        (await a!.read(k)).map((r) => ({ ...r, learner: true as const })),
    });
    expect(await client([rejoining, b!, c!]).get(["k"], { consistency: "local" })).toEqual({
      status: "ok",
      values: [7],
    });
  });

  it("a majority read of several keys needs agreement on every key, not on one", async () => {
    const lag = three();
    await client(lag).change(["a"], () => ({ values: [1] }));
    // "b" reaches stores 0 and 1 only; store 2 answers first with nothing for it.
    await client([lag[0]!, lag[1]!, down], { proposerId: "t6" }).change(["b"], () => ({
      values: [2],
    }));
    const r = await client([lag[2]!, lag[0]!, lag[1]!], { proposerId: "t7" }).get(["a", "b"], {
      consistency: "majority",
    });
    expect(r).toEqual({ status: "ok", values: [1, 2] });
  });
});
