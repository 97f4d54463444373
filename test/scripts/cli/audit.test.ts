import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../scripts/cli/main.ts";
import { makeTestCluster, type TestCluster } from "../../../scripts/local/throwaway-cluster.ts";
import { appendEntry, hashValue } from "../../../shared/audit/entry.ts";
import { sealSegment } from "../../../shared/audit/segment.ts";
import { makeLog } from "../../audit/fixtures.ts";
import { captureConsole } from "../../support/console.ts";

let dir: string;
let tc: TestCluster;
const out = captureConsole();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-audit-cli-"));
  tc = await makeTestCluster();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(name: string, v: unknown): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, JSON.stringify(v));
  return p;
}

describe("tessera audit", () => {
  it("verify: a sealed segment passes with and without keys; an edited one fails", async () => {
    const sealed = await sealSegment(await makeLog("aws", 5), tc.keys.aws);
    const keys = await put("keys.json", tc.cluster);
    const p = await put("seg.json", sealed);
    expect(await main(["audit", "verify", p, "--keys", keys])).toBe(0);
    expect(out.join("\n")).toContain("signature valid");
    expect(await main(["audit", "verify", p])).toBe(0);
    expect(out.join("\n")).toContain("signature not checked");
    const edited = structuredClone(sealed);
    edited.segment.entries[1]!.key = "seat/evt1/S77";
    expect(await main(["audit", "verify", await put("edited.json", edited), "--keys", keys])).toBe(
      1,
    );
    expect(out.join("\n")).toMatch(/break at index 2 \(seq 3\): prev-hash/);
    const other = await makeTestCluster();
    expect(await main(["audit", "verify", p, "--keys", await put("k2.json", other.cluster)])).toBe(
      1,
    );
  });

  it("verify: consecutive segments in one file must link", async () => {
    const log = await makeLog("vercel", 6);
    const s1 = await sealSegment(log.slice(0, 2), tc.keys.vercel);
    const s2 = await sealSegment(log.slice(2, 4), tc.keys.vercel);
    const s3 = await sealSegment(log.slice(4), tc.keys.vercel);
    expect(await main(["audit", "verify", await put("ok.json", [s1, s2, s3])])).toBe(0);
    expect(await main(["audit", "verify", await put("gap.json", [s1, s3])])).toBe(1);
    expect(out.join("\n")).toContain("gap: segment 1");
  });

  it("cross-check: agreement passes, a conflict fails, singles are only reported", async () => {
    const cf = await sealSegment(await makeLog("cloudflare", 3), tc.keys.cloudflare);
    const ve = await makeLog("vercel", 4);
    const aws = await sealSegment(await makeLog("aws", 2), tc.keys.aws);
    const a = await put("cf.json", cf);
    const b = await put("ve.json", ve);
    const c = await put("aws.json", aws);
    expect(
      await main(["audit", "cross-check", a, b, c, "--keys", await put("keys.json", tc.cluster)]),
    ).toBe(0);
    expect(out.join("\n")).toContain(
      "4 commits: 3 agreed, 1 logged by one provider only, 0 in conflict",
    );
    const bad = [...ve];
    bad[1] = await appendEntry(bad[0]!, { ...bad[1]!, valueHash: await hashValue("other") });
    out.length = 0;
    expect(
      await main(["audit", "cross-check", a, await put("bad.json", bad.slice(0, 2)), "--json"]),
    ).toBe(1);
    const r = JSON.parse(out.join("\n"));
    expect(r).toMatchObject({ ok: false, conflicts: 1 });
    expect(r.ballotConflicts).toHaveLength(1);
  });

  it("usage errors exit 2", async () => {
    expect(await main(["audit", "cross-check", join(dir, "cf.json")])).toBe(2);
    expect(await main(["audit", "verify", join(dir, "nope.json")])).toBe(2);
    expect(await main(["audit", "nope"])).toBe(2);
  });
});
