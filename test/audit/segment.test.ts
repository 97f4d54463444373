import { beforeAll, describe, expect, it } from "vitest";
import { makeTestCluster } from "../../scripts/local/throwaway-cluster.ts";
import { crossCheck } from "../../shared/audit/cross-check.ts";
import { appendEntry, hashValue } from "../../shared/audit/entry.ts";
import { sealSegment, segmentGaps, verifySegment } from "../../shared/audit/segment.ts";
import { makeLog } from "./fixtures.ts";

let tc: Awaited<ReturnType<typeof makeTestCluster>>;
beforeAll(async () => {
  tc = await makeTestCluster();
});

describe("sealed segments", () => {
  it("seal and verify with the cluster keys", async () => {
    const sealed = await sealSegment(await makeLog("aws", 10), tc.keys.aws);
    expect(sealed.signature).toMatch(/^[\w-]+\.\.[\w-]+$/);
    const r = await verifySegment(sealed, tc.cluster);
    expect(r).toMatchObject({
      ok: true,
      signature: "valid",
      provider: "aws",
      kid: tc.keys.aws.kid,
    });
    expect(r.head).toMatchObject({ fromSeq: 1, toSeq: 10 });
    const unchecked = await verifySegment(sealed);
    expect(unchecked).toMatchObject({ ok: true, signature: "unchecked" });
  });

  it("catches a truncated tail and an edited last entry, which a bare chain cannot", async () => {
    const sealed = await sealSegment(await makeLog("aws", 5), tc.keys.aws);
    const truncated = {
      ...sealed,
      segment: { ...sealed.segment, entries: sealed.segment.entries.slice(0, 4) },
    };
    const r1 = await verifySegment(truncated, tc.cluster);
    expect(r1.ok).toBe(false);
    expect(r1.chain?.ok).toBe(true);
    expect(r1.problems.map((p) => p.code)).toEqual(["head-mismatch", "head-mismatch"]);
    const entries = [...sealed.segment.entries];
    entries[4] = { ...entries[4]!, key: "seat/evt1/S99" };
    const r2 = await verifySegment(
      { ...sealed, segment: { ...sealed.segment, entries } },
      tc.cluster,
    );
    expect(r2.problems.map((p) => p.code)).toEqual(["head-mismatch"]);
  });

  it("rejects a re-signed head under another provider's or an unknown key", async () => {
    const log = await makeLog("aws", 3);
    const bySomeoneElse = await sealSegment(log, tc.keys.vercel);
    expect((await verifySegment(bySomeoneElse, tc.cluster)).signature).toBe("unknown-key");
    const other = await makeTestCluster();
    const foreign = await sealSegment(log, other.keys.aws);
    expect((await verifySegment(foreign, tc.cluster)).signature).toBe("unknown-key");
    const sealed = await sealSegment(log, tc.keys.aws);
    const moved = { ...sealed, segment: { ...sealed.segment, toSeq: 4 } };
    const r = await verifySegment(moved, tc.cluster);
    expect(r.signature).toBe("invalid");
  });

  it("refuses to seal a broken chain; consecutive segments must link", async () => {
    const log = await makeLog("cloudflare", 6);
    await expect(sealSegment([log[0]!, log[2]!], tc.keys.cloudflare)).rejects.toThrow(/broken/);
    const s1 = await sealSegment(log.slice(0, 3), tc.keys.cloudflare);
    const s2 = await sealSegment(log.slice(3), tc.keys.cloudflare);
    const s3 = await sealSegment(log.slice(4), tc.keys.cloudflare);
    expect((await verifySegment(s2, tc.cluster)).ok).toBe(true);
    expect(segmentGaps([s1.segment, s2.segment])).toEqual([]);
    expect(segmentGaps([s1.segment, s3.segment])).toHaveLength(1);
  });
});

describe("cross-check", () => {
  it("classifies commits as agreed, single or conflict, and finds ballot conflicts", async () => {
    const cf = await makeLog("cloudflare", 4);
    const ve = await makeLog("vercel", 3);
    const aws = await makeLog("aws", 2);
    // aws logs c2 with another value at the same ballot: a conflict and a ballot conflict.
    aws[1] = await appendEntry(aws[0]!, {
      ...aws[1]!,
      valueHash: await hashValue("something else"),
    });
    const r = crossCheck({ cloudflare: cf, vercel: ve, aws });
    const status = Object.fromEntries(r.commits.map((c) => [c.commitId, c.status]));
    expect(status).toEqual({ c1: "agreed", c2: "conflict", c3: "agreed", c4: "single" });
    expect(r).toMatchObject({ agreed: 2, single: 1, conflicts: 1 });
    expect(r.commits.find((c) => c.commitId === "c4")!.providers).toEqual(["cloudflare"]);
    expect(r.ballotConflicts).toHaveLength(1);
    expect(r.ballotConflicts[0]!.key).toBe("seat/evt1/S2");
  });

  it("reports entries filed under the wrong provider", async () => {
    const r = crossCheck({ cloudflare: await makeLog("aws", 1) });
    expect(r.misfiled).toEqual([{ provider: "cloudflare", seq: 1, entryProvider: "aws" }]);
    expect(r.commits).toEqual([]);
  });
});
