import { describe, expect, it } from "vitest";
import { antiEntropy, disagreeingKeys } from "../../shared/quorum/anti-entropy.ts";
import { QuorumClient } from "../../shared/quorum/client.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { downStore as down } from "../support/broken-stores.ts";

function client(acceptors: AcceptorPort[], id: string) {
  return new QuorumClient({
    acceptors,
    proposerId: id,
    now: () => 1_000,
    random: () => 0.5,
    sleep: async () => {},
    timeoutMs: 50,
  });
}

/** Three stores where the third missed `n` writes under `ae/`. */
async function lagging(n: number) {
  const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
  const writer = client([accs[0]!, accs[1]!, down], "writer");
  const keys = Array.from({ length: n }, (_, i) => `ae/${String(i).padStart(3, "0")}`);
  for (let i = 0; i < keys.length; i += 100) {
    const batch = keys.slice(i, i + 100);
    await writer.change(batch, () => ({ values: batch.map(() => 1) }));
  }
  return { accs, keys };
}

describe("anti-entropy", () => {
  it("sweeps a bounded number of keys per call and says where to resume", async () => {
    const { accs, keys } = await lagging(7);
    const c = client(accs, "sweeper");
    const first = await antiEntropy(c, accs, "ae/", { limit: 3 });
    expect(first).toEqual({
      scanned: 3,
      disagreeing: 3,
      repaired: 3,
      failed: 0,
      unreachable: [],
      next: keys[2],
    });
    const second = await antiEntropy(c, accs, "ae/", { limit: 3, after: first.next });
    expect(second).toMatchObject({ scanned: 3, repaired: 3, next: keys[5] });
    const last = await antiEntropy(c, accs, "ae/", { limit: 3, after: second.next });
    expect(last).toStrictEqual({
      scanned: 1,
      disagreeing: 1,
      repaired: 1,
      failed: 0,
      unreachable: [],
    });
    expect((await accs[2]!.read(keys))[6]?.value).toBe("1");
  });

  it("pages through scans longer than one page, and repairs in bounded batches", async () => {
    const { accs } = await lagging(150);
    const r = await antiEntropy(client(accs, "sweeper"), accs, "ae/");
    expect(r).toStrictEqual({
      scanned: 150,
      disagreeing: 150,
      repaired: 150,
      failed: 0,
      unreachable: [],
    });
  });

  it("compares the stores it can reach, and counts repairs that could not reach a quorum", async () => {
    const { accs } = await lagging(2);
    const r = await antiEntropy(client([down, down, accs[2]!], "sweeper"), [down, ...accs], "ae/");
    expect(r).toStrictEqual({
      scanned: 2,
      disagreeing: 2,
      repaired: 0,
      failed: 2,
      unreachable: [0],
    });
  });

  it("compares truncated scans only up to the smallest last key any of them reached", async () => {
    const accs = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
    const at = (k: string) => ({ key: k, ballot: "0000000000000001.w", value: "1" });
    // Store 0 holds ae/1..ae/5, store 1 ae/3..ae/7, store 2 everything: with a limit of 3 the
    // scans stop at ae/3, ae/5 and ae/3, so only ae/1..ae/3 can be compared.
    await accs[0]!.accept(["ae/1", "ae/2", "ae/3", "ae/4", "ae/5"].map(at));
    await accs[1]!.accept(["ae/3", "ae/4", "ae/5", "ae/6", "ae/7"].map(at));
    await accs[2]!.accept(["ae/1", "ae/2", "ae/3", "ae/4", "ae/5", "ae/6", "ae/7"].map(at));
    const r = await antiEntropy(client(accs, "sweeper"), accs, "ae/", { limit: 3 });
    expect(r).toStrictEqual({
      scanned: 3,
      disagreeing: 2,
      repaired: 2,
      failed: 0,
      unreachable: [],
      next: "ae/3",
    });
  });

  it("reports keys in order, with a missing record the same as an empty ballot", () => {
    const rec = (key: string, accepted: string) => ({
      key,
      promised: accepted,
      accepted,
      value: "1",
    });
    expect(disagreeingKeys([[rec("b", "x"), rec("a", "x")], []])).toEqual(["a", "b"]);
    expect(disagreeingKeys([[rec("a", "")], []])).toEqual([]);
    expect(disagreeingKeys([[rec("m", "x"), rec("n", "x")], []], "m")).toEqual(["m"]);
  });
});
