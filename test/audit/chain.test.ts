import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { verifyChain } from "../../shared/audit/chain.ts";
import { appendEntry, GENESIS_HASH, hashEntry, headOf } from "../../shared/audit/entry.ts";
import { makeLog } from "./fixtures.ts";

describe("hash-chained audit log", () => {
  it("appends with seq + 1 and the previous hash; a head works like the entry", async () => {
    const log = await makeLog("aws", 3);
    expect(log.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(log[0]!.prevHash).toBe(GENESIS_HASH);
    expect(log[1]!.prevHash).toBe(await hashEntry(log[0]!));
    const { seq: _s, prevHash: _p, ...data } = log[2]!;
    expect(await appendEntry(await headOf(log[1]!), data)).toEqual(log[2]);
    await expect(appendEntry(log[2]!, { ...data, provider: "vercel" })).rejects.toThrow(RangeError);
    const r = await verifyChain(log);
    expect(r.ok).toBe(true);
    expect(r.lastHash).toBe(await hashEntry(log[2]!));
  });

  it("hashes are canonical: member order does not matter", async () => {
    const [e] = await makeLog("aws", 1);
    const reversed = Object.fromEntries(Object.entries(e!).reverse()) as typeof e & {};
    expect(await hashEntry(reversed)).toBe(await hashEntry(e!));
  });

  it("detects a deleted entry at its position", async () => {
    const log = await makeLog("cloudflare", 6);
    const r = await verifyChain([...log.slice(0, 3), ...log.slice(4)]);
    expect(r.ok).toBe(false);
    expect(r.firstBreak).toMatchObject({ index: 3, seq: 5, code: "seq" });
    expect(r.breaks.map((b) => b.code)).toEqual(["seq", "prev-hash"]);
  });

  it("detects a deleted entry even when later seqs were renumbered", async () => {
    const log = await makeLog("cloudflare", 6);
    const cut = [...log.slice(0, 3), ...log.slice(4).map((e) => ({ ...e, seq: e.seq - 1 }))];
    const r = await verifyChain(cut);
    expect(r.firstBreak).toMatchObject({ index: 3, seq: 4, code: "prev-hash" });
  });

  it("detects reordered entries", async () => {
    const log = await makeLog("vercel", 5);
    const r = await verifyChain([log[0]!, log[2]!, log[1]!, log[3]!, log[4]!]);
    expect(r.firstBreak).toMatchObject({ index: 1, seq: 3 });
  });

  it("detects an edited entry at the link after it", async () => {
    const log = await makeLog("aws", 5);
    const edited = [...log];
    edited[2] = { ...log[2]!, valueHash: "f".repeat(64) };
    const r = await verifyChain(edited);
    expect(r.breaks).toEqual([expect.objectContaining({ index: 3, seq: 4, code: "prev-hash" })]);
  });

  it("detects a first entry that does not start at genesis, and malformed entries", async () => {
    const log = await makeLog("aws", 3);
    const r = await verifyChain([{ ...log[0]!, prevHash: "1".repeat(64) }, ...log.slice(1)]);
    expect(r.breaks.map((b) => b.code)).toEqual(["start", "prev-hash"]);
    const m = await verifyChain([log[0]!, { ...log[1]!, kind: "NOT OK" }, log[2]!]);
    expect(m.firstBreak).toMatchObject({ index: 1, seq: 2, code: "malformed" });
  });

  it("property: removing, swapping or editing any entry but the last is detected", async () => {
    // The last entry is the sealed segment's job (segment.test.ts); a whole log starts at seq 1.
    const log = await makeLog("vercel", 8);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("delete", "swap", "edit"),
        fc.integer({ min: 0, max: 6 }),
        async (op, i) => {
          const copy = [...log];
          if (op === "delete") copy.splice(i, 1);
          else if (op === "swap") [copy[i], copy[i + 1]] = [copy[i + 1]!, copy[i]!];
          else copy[i] = { ...copy[i]!, time: copy[i]!.time + 1 };
          const r = await verifyChain(copy, { fromSeq: 1 });
          expect(r.ok).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });
});
