import { describe, expect, it } from "vitest";
import { WitnessingAcceptor } from "../../../functions/peers/witnessing-acceptor.ts";
import { encodeBallot } from "../../../shared/quorum/ballot.ts";
import type { AcceptEntry } from "../../../shared/quorum/messages.ts";
import { MemoryAcceptor } from "../../../shared/storage/memory.ts";

const ballot = (counter: number) => encodeBallot({ counter, proposer: "p" });

function witnessed() {
  const store = new MemoryAcceptor();
  const a = new WitnessingAcceptor(store);
  const seen: AcceptEntry[] = [];
  a.bind(async (e) => {
    seen.push(e);
    return e.key === "fails" ? Promise.reject(new Error("boom")) : { about: e.value };
  });
  return { store, a, seen };
}

describe("WitnessingAcceptor", () => {
  it("witnesses a value only after its store accepted it, in that entry's reply", async () => {
    const { a, seen } = witnessed();
    await a.prepare({ keys: ["k2"], ballot: ballot(5) });
    const replies = await a.accept([
      { key: "k1", ballot: ballot(3), value: '"yes"' },
      { key: "k2", ballot: ballot(3), value: '"refused: promised 5"' },
    ]);
    expect(replies[0]).toMatchObject({ ok: true, key: "k1", attest: { about: '"yes"' } });
    expect(replies[1]).toMatchObject({ ok: false, key: "k2" });
    expect(replies[1]).not.toHaveProperty("attest");
    // Never asked about what the store refused.
    expect(seen.map((e) => e.key)).toEqual(["k1"]);
  });

  it("a witness that fails leaves the accept as the store answered it", async () => {
    const { a } = witnessed();
    const [r] = await a.accept([{ key: "fails", ballot: ballot(1), value: "1" }]);
    expect(r).toEqual({ ok: true, key: "fails" });
  });

  it("answers unwitnessed until a witness is bound", async () => {
    const a = new WitnessingAcceptor(new MemoryAcceptor());
    const [r] = await a.accept([{ key: "k", ballot: ballot(1), value: "1" }]);
    expect(r).toEqual({ ok: true, key: "k" });
  });
});
