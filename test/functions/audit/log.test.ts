import { describe, expect, it } from "vitest";
import { AuditedAcceptor } from "../../../functions/audit/acceptor.ts";
import { commitIdFor } from "../../../functions/audit/commit-id.ts";
import {
  parseSegmentId,
  segmentBlobKey,
  segmentOfBlobKey,
} from "../../../functions/audit/layout.ts";
import { AuditLog, GAP_KIND } from "../../../functions/audit/log.ts";
import { withAudit } from "../../../functions/audit/wire.ts";
import { withDefaults } from "../../../functions/deps.ts";
import { makeTestCluster } from "../../../scripts/local/throwaway-cluster.ts";
import { verifyChain } from "../../../shared/audit/chain.ts";
import { type AuditEntry, appendEntry, hashValue } from "../../../shared/audit/entry.ts";
import { type SealedSegment, verifySegment } from "../../../shared/audit/segment.ts";
import { linkSegments } from "../../../shared/audit/streams.ts";
import { encodeBallot } from "../../../shared/quorum/ballot.ts";
import { MemoryAcceptor, MemoryBlobs } from "../../../shared/storage/memory.ts";
import type { BlobPort } from "../../../shared/storage/ports.ts";

const tc = await makeTestCluster();
const STREAM = "aws-1767225600000-0a1b2c3d4e5f";
const ballot = (n: number, p = "vercel-x") => encodeBallot({ counter: n, proposer: p });

function setup(o: { segmentEntries?: number; bufferMax?: number; blobs?: BlobPort } = {}) {
  const clock = { ms: 1_767_225_600_000 };
  const blobs = o.blobs ?? new MemoryBlobs();
  const log = new AuditLog({
    provider: "aws",
    stream: STREAM,
    signingKey: tc.keys.aws,
    blobs,
    now: () => clock.ms,
    ...(o.segmentEntries ? { segmentEntries: o.segmentEntries } : {}),
    ...(o.bufferMax ? { bufferMax: o.bufferMax } : {}),
  });
  const store = new MemoryAcceptor();
  return { clock, blobs, log, store, acceptor: new AuditedAcceptor(store, log) };
}

async function segmentsIn(blobs: MemoryBlobs): Promise<SealedSegment[]> {
  return [...blobs.blobs.entries()]
    .filter(([k]) => segmentOfBlobKey(k))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, v]) => JSON.parse(new TextDecoder().decode(v)) as SealedSegment);
}

describe("AuditedAcceptor", () => {
  it("logs each granted accept as {accept, key, ballot, valueHash, commitId}, not refusals", async () => {
    const { acceptor, log } = setup();
    const value = JSON.stringify({ state: "sold", orderId: "o1", holdId: "h1" });
    await acceptor.prepare({ keys: ["seat/e/s/1"], ballot: ballot(5) });
    const r = await acceptor.accept([
      { key: "seat/e/s/1", ballot: ballot(5), value },
      { key: "seat/e/s/2", ballot: ballot(5), value: null },
    ]);
    expect(r.every((x) => x.ok)).toBe(true);
    // Below the promise: refused, and not logged.
    await acceptor.prepare({ keys: ["seat/e/s/3"], ballot: ballot(9) });
    expect((await acceptor.accept([{ key: "seat/e/s/3", ballot: ballot(8), value }]))[0]?.ok).toBe(
      false,
    );
    const entries = log.pending();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      seq: 1,
      provider: "aws",
      kind: "accept",
      key: "seat/e/s/1",
      ballot: ballot(5),
      valueHash: await hashValue(value),
      commitId: `seat/e/s/1@${ballot(5)}`,
    });
    expect(entries[1]).toMatchObject({ seq: 2, key: "seat/e/s/2", valueHash: "" });
    expect((await verifyChain(entries, { fromSeq: 1 })).ok).toBe(true);
  });

  it("commit ids are the same on every acceptor; long ones are hashed under 128 characters", async () => {
    const long = `seat/${"e".repeat(64)}/${"s".repeat(64)}/${"x".repeat(64)}`;
    const id = await commitIdFor(long, ballot(1));
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await commitIdFor(long, ballot(1))).toBe(id);
    expect(await commitIdFor(long, ballot(2))).not.toBe(id);
  });

  it("seals a signed segment every N entries and on flush; segments chain and verify", async () => {
    const { acceptor, log, blobs } = setup({ segmentEntries: 4 });
    for (let i = 1; i <= 10; i++) {
      await acceptor.accept([{ key: `k/${i}`, ballot: ballot(i), value: `"v${i}"` }]);
    }
    expect(log.stats()).toMatchObject({ seq: 10, sealedSeq: 8, buffered: 2, segmentsWritten: 2 });
    await log.flush();
    expect(log.stats()).toMatchObject({ sealedSeq: 10, buffered: 0, segmentsWritten: 3 });
    const keys = [...(blobs as MemoryBlobs).blobs.keys()].sort();
    expect(keys).toEqual([
      segmentBlobKey(STREAM, 1, 4),
      segmentBlobKey(STREAM, 5, 8),
      segmentBlobKey(STREAM, 9, 10),
    ]);
    expect(keys[0]).toBe(`audit/aws/${STREAM}/000000000001-000000000004.json`);
    const segs = await segmentsIn(blobs as MemoryBlobs);
    for (const s of segs) expect((await verifySegment(s, tc.cluster)).ok).toBe(true);
    const linked = linkSegments(segs.map((s) => s.segment));
    expect(linked).toEqual({ chains: [[0, 1, 2]], problems: [] });
    expect(parseSegmentId(`${STREAM}.000000000005-000000000008`)?.blobKey).toBe(keys[1]);
  });

  it("a quiet instance seals a short segment once it is older than the age limit", async () => {
    const { acceptor, log, clock } = setup({ segmentEntries: 100 });
    await acceptor.accept([{ key: "k/1", ballot: ballot(1), value: '"a"' }]);
    clock.ms += 61_000;
    await acceptor.accept([{ key: "k/2", ballot: ballot(2), value: '"b"' }]);
    expect(log.stats()).toMatchObject({ sealedSeq: 2, buffered: 0 });
  });

  it("a deleted, reordered or edited entry is detected; a cut tail and a missing segment too", async () => {
    const { acceptor, log, blobs } = setup({ segmentEntries: 5 });
    for (let i = 1; i <= 10; i++) {
      await acceptor.accept([{ key: `k/${i}`, ballot: ballot(i), value: `"v${i}"` }]);
    }
    await log.flush();
    const [s1, s2] = await segmentsIn(blobs as MemoryBlobs);
    const entries = s1!.segment.entries;

    const deleted = structuredClone(s1!);
    deleted.segment.entries.splice(2, 1);
    const d = await verifySegment(deleted, tc.cluster);
    expect(d.ok).toBe(false);
    expect(d.chain?.firstBreak).toMatchObject({ index: 2, seq: 4, code: "seq" });

    const reordered = structuredClone(s1!);
    [reordered.segment.entries[1], reordered.segment.entries[2]] = [entries[2]!, entries[1]!];
    const r = await verifySegment(reordered, tc.cluster);
    expect(r.ok).toBe(false);
    expect(r.chain?.firstBreak?.index).toBe(1);

    const edited = structuredClone(s1!);
    edited.segment.entries[1]!.valueHash = await hashValue('"forged"');
    const e = await verifySegment(edited, tc.cluster);
    expect(e.ok).toBe(false);
    expect(e.chain?.firstBreak).toMatchObject({ index: 2, code: "prev-hash" });

    // Edited and re-chained from there on (a forger re-hashing the rest): the signed head catches it.
    const rechained = structuredClone(s1!);
    let prev: AuditEntry = rechained.segment.entries[0]!;
    for (let i = 1; i < rechained.segment.entries.length; i++) {
      const { seq: _s, prevHash: _p, ...data } = rechained.segment.entries[i]!;
      prev = await appendEntry(prev, i === 1 ? { ...data, key: "k/forged" } : data);
      rechained.segment.entries[i] = prev;
    }
    const rc = await verifySegment(rechained, tc.cluster);
    expect(rc.ok).toBe(false);
    expect(rc.problems.map((p) => p.code)).toContain("head-mismatch");

    const cut = structuredClone(s1!);
    cut.segment.entries.pop();
    expect((await verifySegment(cut, tc.cluster)).problems[0]?.code).toBe("head-mismatch");

    // Segments of one chain: leaving one out shows as a segment that continues nothing.
    expect(linkSegments([s2!.segment]).problems[0]).toMatch(/does not continue/);
  });

  it("keeps entries while the blob store fails, bounds them, and chains a gap marker", async () => {
    const inner = new MemoryBlobs();
    let down = true;
    const flaky: BlobPort = {
      put: async (k, b) => {
        if (down) throw new Error("blob store down");
        await inner.put(k, b);
      },
      get: (k) => inner.get(k),
      list: (p, o) => inner.list(p, o),
    };
    const { acceptor, log } = setup({ segmentEntries: 2, bufferMax: 4, blobs: flaky });
    for (let i = 1; i <= 7; i++) {
      await acceptor.accept([{ key: `k/${i}`, ballot: ballot(i), value: `"v${i}"` }]);
    }
    expect(log.stats()).toMatchObject({ seq: 4, buffered: 4, dropped: 3 });
    expect(log.stats().sealFailures).toBeGreaterThan(0);
    down = false;
    await log.flush();
    await acceptor.accept([{ key: "k/8", ballot: ballot(8), value: '"v8"' }]);
    await log.flush();
    const segs = await segmentsIn(inner);
    const all = segs.flatMap((s) => s.segment.entries);
    expect(all.map((e) => e.kind)).toEqual([
      "accept",
      "accept",
      "accept",
      "accept",
      GAP_KIND,
      "accept",
    ]);
    expect(all[4]?.key).toBe("dropped:3");
    expect((await verifyChain(all, { fromSeq: 1 })).ok).toBe(true);
  });

  it("withAudit wraps the host's acceptor once, with a stream named for the provider", async () => {
    const deps = {
      provider: "vercel" as const,
      cluster: tc.cluster,
      signingKey: tc.keys.vercel,
      settings: tc.settingsFor("vercel"),
      acceptor: new MemoryAcceptor(),
      blobs: new MemoryBlobs(),
      storeName: "memory",
    };
    const a = withAudit(withDefaults(deps));
    expect(a.deps.acceptor).toBeInstanceOf(AuditedAcceptor);
    expect(a.audit.stream).toMatch(/^vercel-[0-9]+-[0-9a-f]{12}$/);
    expect(withAudit(a.deps).audit).toBe(a.audit);
  });
});
