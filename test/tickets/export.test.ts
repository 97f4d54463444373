import { beforeAll, describe, expect, it } from "vitest";
import { buildExport, signExport, verifyExport } from "../../shared/tickets/export.ts";
import { clusterKeysOf, makeTestCluster, sampleClaims, signBy } from "./fixtures.ts";

type TC = Awaited<ReturnType<typeof makeTestCluster>>;
let a: TC;
let b: TC;
beforeAll(async () => {
  a = await makeTestCluster({}, "test-cluster");
  b = await makeTestCluster({}, "old-cluster");
});

async function sampleExport() {
  const t1 = await signBy(a, sampleClaims());
  const t2 = await signBy(
    a,
    sampleClaims({ tid: "tkt_2", seat: { ...sampleClaims().seat, id: "B-1" } }),
    ["vercel", "aws"],
  );
  return buildExport({
    clusterId: "test-cluster",
    exportedAt: "2026-01-02T03:04:05Z",
    holder: "user_8d1f0c3e",
    keys: clusterKeysOf(a),
    tickets: [t1, t2],
  });
}

describe("buyer export", () => {
  it("verifies against its own keys and says they were self-supplied", async () => {
    const r = await verifyExport(await sampleExport());
    // Keys shipped in the file show consistency only: never `valid` without trusted keys.
    expect(r).toMatchObject({ valid: false, selfConsistent: true, authenticated: false });
    expect(r.reasons).toEqual([]);
    expect(r.keysSource).toBe("self-supplied");
    expect(r.tickets.map((t) => t.tid)).toEqual(["tkt_01JZ8X7Q4M5N6P7R8S9T0V1W2X", "tkt_2"]);
  });

  it("with trusted keys, refuses a file whose keys are not the trusted ones", async () => {
    const f = await sampleExport();
    expect((await verifyExport(f, { trusted: a.cluster })).valid).toBe(true);
    const other = await makeTestCluster({}, "test-cluster");
    const r = await verifyExport(f, { trusted: other.cluster });
    expect(r.valid).toBe(false);
    expect(r.keysSource).toBe("trusted");
    expect(r.reasons.map((x) => x.code)).toContain("keys-mismatch");
    expect(r.reasons.map((x) => x.code)).toContain("invalid-ticket");
  });

  it("reports a forged ticket, a foreign holder, and keeps tickets of a former cluster", async () => {
    const f = await sampleExport();
    const foreign = await signBy(a, sampleClaims({ tid: "tkt_3", hld: "someone-else" }));
    const old = await signBy(b, sampleClaims({ tid: "tkt_4", cid: "old-cluster" }));
    const g = buildExport({
      ...f,
      tickets: [...f.tickets, foreign, old],
      formerKeys: [clusterKeysOf(b)],
    });
    g.tickets[0]!.signatures = g.tickets[0]!.signatures.slice(0, 1);
    const r = await verifyExport(g);
    expect(r.valid).toBe(false);
    expect(r.reasons.map((x) => [x.code, x.ticket])).toEqual([
      ["invalid-ticket", 0],
      ["holder-mismatch", 2],
    ]);
    expect(r.tickets[3]!.result.valid).toBe(true);
  });

  it("an export-level signature covers the whole file", async () => {
    const signed = await signExport(await sampleExport(), a.keys.cloudflare, "cloudflare");
    const ok = await verifyExport(signed, { trusted: a.cluster });
    expect(ok.valid).toBe(true);
    expect(ok.exportSignatures).toEqual([
      { provider: "cloudflare", kid: a.keys.cloudflare.kid, valid: true },
    ]);
    const trimmed = { ...signed, tickets: signed.tickets.slice(1) };
    const r = await verifyExport(trimmed, { trusted: a.cluster });
    expect(r.valid).toBe(false);
    expect(r.reasons.map((x) => x.code)).toEqual(["bad-export-signature"]);
  });

  it("reports a malformed file", async () => {
    const r = await verifyExport({ format: "tessera.tickets", formatVersion: 2 });
    expect(r.valid).toBe(false);
    expect(r.reasons[0]!.code).toBe("malformed");
  });
});
