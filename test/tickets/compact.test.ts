import { beforeAll, describe, expect, it } from "vitest";
import {
  expandCompact,
  parseCompact,
  toCompact,
  verifyCompact,
} from "../../shared/tickets/compact.ts";
import { ticketQrPng, ticketQrSvg, ticketQrVersion } from "../../shared/tickets/qr.ts";
import { normalizeTrust } from "../../shared/tickets/trust.ts";
import { verifyTicket } from "../../shared/tickets/verify.ts";
import { clusterKeysOf, makeTestCluster, sampleClaims, signBy } from "./fixtures.ts";

let tc: Awaited<ReturnType<typeof makeTestCluster>>;
beforeAll(async () => {
  tc = await makeTestCluster();
});

describe("compact ticket", () => {
  it("round-trips to the same General JSON ticket and verifies", async () => {
    const t = await signBy(tc, sampleClaims());
    const c = toCompact(t);
    expect(c.startsWith("T1.")).toBe(true);
    expect(await expandCompact(parseCompact(c), normalizeTrust(clusterKeysOf(tc)))).toEqual(t);
    expect((await verifyCompact(c, clusterKeysOf(tc))).valid).toBe(true);
  });

  it("door form keeps two signatures and still verifies; one is not enough", async () => {
    const t = await signBy(tc, sampleClaims());
    const door = toCompact(t, { maxSignatures: 2 });
    expect(door.length).toBeLessThan(toCompact(t).length);
    expect((await verifyCompact(door, clusterKeysOf(tc))).valid).toBe(true);
    const one = toCompact(t, { maxSignatures: 1 });
    const r = await verifyCompact(one, clusterKeysOf(tc));
    expect(r.valid ? [] : r.reasons.map((x) => x.code)).toEqual(["too-few-signatures"]);
  });

  it("reports garbage as malformed", async () => {
    for (const bad of ["", "T2.abc.0.s", "T1.abc", "T1.abc.9.sig", "T1.a b.0.s", "T1.abc.0"]) {
      const r = await verifyCompact(bad, clusterKeysOf(tc));
      expect(r.valid).toBe(false);
      if (!r.valid) expect(r.reasons[0]!.code).toBe("malformed");
    }
  });

  it("refuses to compact a ticket whose header is not in canonical form", async () => {
    const t = await signBy(tc, sampleClaims());
    const h = JSON.parse(atob(t.signatures[0]!.protected.replace(/-/g, "+").replace(/_/g, "/")));
    const reordered = btoa(
      JSON.stringify({ kid: h.kid, alg: h.alg, tessera_provider: h.tessera_provider }),
    )
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    const odd = { ...t, signatures: [{ ...t.signatures[0]!, protected: reordered }] };
    expect(() => toCompact(odd)).toThrow(/canonical/);
    // ...and it does not verify anyway (the signature covered the original header).
    expect((await verifyTicket(odd, clusterKeysOf(tc))).valid).toBe(false);
  });

  it("finds the right key of a provider during a key rotation", async () => {
    const t = await signBy(tc, sampleClaims());
    const keys = clusterKeysOf(tc);
    const next = await makeTestCluster();
    keys.providers.vercel.unshift(next.cluster.providers.vercel.publicJwk);
    expect((await verifyCompact(toCompact(t), keys)).valid).toBe(true);
  });

  it("renders a QR code (SVG and PNG) in Node", async () => {
    const t = await signBy(tc, sampleClaims());
    const door = toCompact(t, { maxSignatures: 2 });
    const svg = await ticketQrSvg(door);
    expect(svg).toMatch(/^<svg /);
    const png = await ticketQrPng(door);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const v = ticketQrVersion(door);
    console.info(`compact door ticket: ${door.length} chars, QR version ${v} (ECC M)`);
    expect(v).toBeLessThanOrEqual(25);
  });
});
