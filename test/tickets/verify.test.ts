import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { toBase64Url } from "../../shared/crypto/base64.ts";
import { canonicalBytes } from "../../shared/formats/canonical-json.ts";
import { canonicalClaims } from "../../shared/tickets/claims.ts";
import { assembleTicket, signTicketClaims, type Ticket } from "../../shared/tickets/sign.ts";
import { type TicketVerification, verifyTicket } from "../../shared/tickets/verify.ts";
import { clusterKeysOf, makeTestCluster, sampleClaims, signBy } from "./fixtures.ts";

type TC = Awaited<ReturnType<typeof makeTestCluster>>;
let a: TC;
let b: TC;

beforeAll(async () => {
  a = await makeTestCluster({}, "test-cluster");
  b = await makeTestCluster({}, "other-cluster");
});

const codes = (r: TicketVerification) => (r.valid ? [] : r.reasons.map((x) => x.code));

describe("ticket verification", () => {
  it("accepts a ticket signed by all three providers, and by any two", async () => {
    const claims = sampleClaims();
    const r = await verifyTicket(await signBy(a, claims), clusterKeysOf(a));
    expect(r.valid).toBe(true);
    if (r.valid) {
      expect(r.providers).toEqual(["cloudflare", "vercel", "aws"]);
      expect(r.claims).toEqual(claims);
      expect(r.clusterId).toBe("test-cluster");
    }
    for (const pair of [
      ["cloudflare", "vercel"],
      ["vercel", "aws"],
      ["aws", "cloudflare"],
    ] as const) {
      const t = await signBy(a, claims, pair);
      expect((await verifyTicket(t, clusterKeysOf(a))).valid).toBe(true);
    }
  });

  it("accepts the ClusterConfig itself and a trust list as keys", async () => {
    const t = await signBy(a, sampleClaims());
    expect((await verifyTicket(t, a.cluster)).valid).toBe(true);
    expect((await verifyTicket(t, { trusted: [clusterKeysOf(b), clusterKeysOf(a)] })).valid).toBe(
      true,
    );
  });

  it("rejects a ticket signed by only one provider: too-few-signatures", async () => {
    const r = await verifyTicket(await signBy(a, sampleClaims(), ["vercel"]), clusterKeysOf(a));
    expect(r.valid).toBe(false);
    expect(codes(r)).toEqual(["too-few-signatures"]);
  });

  it("counts two signatures from the SAME provider once", async () => {
    const claims = sampleClaims();
    const s1 = await signTicketClaims(claims, a.keys.aws, "aws");
    // Ed25519 is deterministic, so sign a second time with a second aws key listed for rotation.
    const rotated = await makeTestCluster({}, "test-cluster");
    const s2 = await signTicketClaims(claims, rotated.keys.aws, "aws");
    const keys = clusterKeysOf(a);
    keys.providers.aws.push(rotated.cluster.providers.aws.publicJwk);
    const t = assembleTicket(claims, [s1, s2]);
    expect(t.signatures).toHaveLength(2);
    const r = await verifyTicket(t, keys);
    expect(r.valid).toBe(false);
    expect(codes(r)).toEqual(["too-few-signatures"]);
    if (!r.valid) expect(r.reasons[0]!.detail).toContain("same provider counted once");
    // ...and a literal duplicate of one signature does not count twice either.
    const dup: Ticket = { payload: t.payload, signatures: [s1, s1] };
    expect(codes(await verifyTicket(dup, keys))).toEqual(["too-few-signatures"]);
  });

  it("rejects a ticket whose seat was changed: tampered", async () => {
    const t = await signBy(a, sampleClaims());
    const edited = sampleClaims({ seat: { ...sampleClaims().seat, id: "orch-A-13" } });
    const forged: Ticket = { ...t, payload: toBase64Url(canonicalClaims(edited)) };
    const r = await verifyTicket(forged, clusterKeysOf(a));
    expect(r.valid).toBe(false);
    expect(codes(r)).toContain("tampered");
    expect(codes(r)).toContain("too-few-signatures");
    if (!r.valid) expect(r.reasons.filter((x) => x.code === "tampered")).toHaveLength(3);
  });

  it("rejects a ticket from another cluster: wrong-cluster", async () => {
    const t = await signBy(b, sampleClaims({ cid: "other-cluster" }));
    const r = await verifyTicket(t, clusterKeysOf(a));
    expect(codes(r)).toEqual(["wrong-cluster"]);
  });

  it("rejects another cluster's signatures on this cluster's id: unknown-key", async () => {
    const t = await signBy(b, sampleClaims());
    const r = await verifyTicket(t, clusterKeysOf(a));
    expect(codes(r)).toContain("unknown-key");
    expect(codes(r)).toContain("too-few-signatures");
  });

  it("keeps tickets of a former cluster valid when its keys are trusted (fork)", async () => {
    const old = await signBy(b, sampleClaims({ cid: "other-cluster" }));
    const trust = { trusted: [clusterKeysOf(a), clusterKeysOf(b)] };
    const r = await verifyTicket(old, trust);
    expect(r.valid).toBe(true);
    if (r.valid) expect(r.clusterId).toBe("other-cluster");
  });

  it("a provider's key cannot sign in another provider's name", async () => {
    const claims = sampleClaims();
    const real = await signTicketClaims(claims, a.keys.cloudflare, "cloudflare");
    const fake = await signTicketClaims(claims, a.keys.cloudflare, "vercel");
    const r = await verifyTicket(assembleTicket(claims, [real, fake]), clusterKeysOf(a));
    expect(codes(r)).toEqual(["too-few-signatures", "unknown-key"]);
  });

  it("stays valid with an extra bad signature but reports it", async () => {
    const t = await signBy(a, sampleClaims());
    const sigs = [...t.signatures];
    const last = sigs[2]!;
    sigs[2] = {
      ...last,
      signature: `${last.signature[0] === "A" ? "B" : "A"}${last.signature.slice(1)}`,
    };
    const r = await verifyTicket({ ...t, signatures: sigs }, clusterKeysOf(a));
    expect(r.valid).toBe(true);
    if (r.valid) expect(r.warnings.map((w) => w.code)).toEqual(["tampered"]);
  });

  it("rejects malformed input without throwing", async () => {
    const keys = clusterKeysOf(a);
    for (const bad of [null, 42, "x", {}, { payload: "e30", signatures: [] }, []]) {
      expect(codes(await verifyTicket(bad, keys))).toContain("malformed");
    }
    // Signed, but not canonical: members re-ordered.
    const claims = sampleClaims();
    const { tid, ...rest } = claims;
    const reordered = toBase64Url(new TextEncoder().encode(JSON.stringify({ ...rest, tid })));
    const t = await signBy(a, claims);
    expect(codes(await verifyTicket({ ...t, payload: reordered }, keys))).toContain("malformed");
  });

  it("refuses a quorum below 2", async () => {
    const t = await signBy(a, sampleClaims());
    await expect(verifyTicket(t, clusterKeysOf(a), { quorum: 1 })).rejects.toThrow(RangeError);
    expect((await verifyTicket(t, clusterKeysOf(a), { quorum: 3 })).valid).toBe(true);
  });

  it("property: any single-character edit of the payload or a signature invalidates", async () => {
    const claims = sampleClaims();
    const t = await signBy(a, claims, ["cloudflare", "vercel"]);
    const keys = clusterKeysOf(a);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("payload", "sig0", "sig1"),
        fc.nat(),
        fc.constantFrom(...alphabet.split(""), "=", ".", "~"),
        async (field, pos, ch) => {
          const target =
            field === "payload" ? t.payload : t.signatures[field === "sig0" ? 0 : 1]!.signature;
          const i = pos % target.length;
          fc.pre(target[i] !== ch);
          const edited = target.slice(0, i) + ch + target.slice(i + 1);
          const copy: Ticket = structuredClone(t);
          if (field === "payload") copy.payload = edited;
          else copy.signatures[field === "sig0" ? 0 : 1]!.signature = edited;
          const r = await verifyTicket(copy, keys);
          expect(r.valid).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("property: any single-byte edit of the decoded payload invalidates", async () => {
    const claims = sampleClaims();
    const t = await signBy(a, claims, ["cloudflare", "aws"]);
    const bytes = canonicalBytes(claims);
    const keys = clusterKeysOf(a);
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (pos, delta) => {
        const copy = new Uint8Array(bytes);
        const i = pos % copy.length;
        copy[i] = (copy[i]! + delta) % 256;
        const r = await verifyTicket({ ...t, payload: toBase64Url(copy) }, keys);
        expect(r.valid).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
