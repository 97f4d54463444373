import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { requestRevocationSignatures } from "../../../../functions/peers/revocation-sign-client.ts";
import { main } from "../../../../scripts/cli/main.ts";
import { loadRevocations } from "../../../../scripts/cli/revocations.ts";
import { revocationPageKey } from "../../../../shared/domain/keys.ts";
import { verifyExport } from "../../../../shared/tickets/export.ts";
import { verifyRevocation } from "../../../../shared/tickets/revocation.ts";
import { checkFeeds } from "../../../../shared/tickets/revocation-feed.ts";
import type { RevocationPage } from "../../../../shared/tickets/revocation-log.ts";
import { normalizeTrust } from "../../../../shared/tickets/trust.ts";
import { verifyTicket } from "../../../../shared/tickets/verify.ts";
import { captureConsole } from "../../../support/console.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import { directStore } from "../../../support/seed.ts";
import { buySeats, call } from "../buyer/helpers.ts";
import {
  licensedTheater,
  manage,
  newKey,
  type TheaterCreds,
  theaterWithEvent,
} from "../manage/helpers.ts";

let mc: MemoryCluster;
let odeon: TheaterCreds;
let eventId: string;
let alice: string;
const seat = (seatId: string) => ({ sectionId: "stalls", seatId });
const cli = captureConsole();

async function buy(seats: string[]) {
  const opts = { confirm: "vercel" as const };
  return (await buySeats(mc, alice, eventId, seats.map(seat), opts)).body as {
    order: { id: string };
    tickets: { id: string; ticket: unknown }[];
  };
}

const refund = (orderId: string, key = newKey()) =>
  manage(mc, "aws", odeon, "POST", `/v1/manage/orders/${orderId}/refund`, { key });

const feed = (via: "cloudflare" | "vercel" | "aws", since = 0) =>
  call(mc, via, "GET", `/v1/events/${eventId}/revocations?since=${since}`, {});

beforeAll(async () => {
  mc = await startMemoryCluster();
  odeon = await licensedTheater(mc, "odeon");
  alice = await mc.tokenFor("alice");
  ({ eventId } = await theaterWithEvent(mc, odeon));
});

let refunded: Awaited<ReturnType<typeof buy>>;
let kept: Awaited<ReturnType<typeof buy>>;

describe("the revocation feed", () => {
  it("is empty and complete before any refund, on every provider", async () => {
    for (const p of ["cloudflare", "vercel", "aws"] as const) {
      const r = await feed(p);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        format: "tessera.revocations",
        eventId,
        since: 0,
        next: 0,
        complete: true,
        revocations: [],
      });
    }
  });

  it("a refund revokes each ticket of the order in a co-signed entry, before it answers", async () => {
    refunded = await buy(["stalls-a1", "stalls-a2"]);
    kept = await buy(["stalls-a3"]);
    const key = newKey();
    expect((await refund(refunded.order.id, key)).status).toBe(200);
    for (const p of ["cloudflare", "vercel", "aws"] as const) {
      const r = await feed(p);
      expect(r.body).toMatchObject({ next: 2, complete: true });
      const check = await checkFeeds([r.body], mc.tc.cluster);
      expect(check.rejected).toEqual([]);
      expect(check.gaps).toBe(0);
      expect([...check.revoked.keys()].sort()).toEqual(refunded.tickets.map((t) => t.id).sort());
      for (const doc of r.body.revocations) {
        const v = await verifyRevocation(doc, mc.tc.cluster);
        expect(v.valid).toBe(true);
        if (v.valid) expect(v.providers.length).toBeGreaterThanOrEqual(2);
      }
    }
    // The refunded tickets still carry genuine signatures: the feed is what says they are void.
    for (const t of refunded.tickets)
      expect((await verifyTicket(t.ticket, mc.tc.cluster)).valid).toBe(true);

    // A retry of the refund (same key) and a second refund request append nothing more.
    expect((await refund(refunded.order.id, key)).status).toBe(200);
    expect((await refund(refunded.order.id)).status).toBe(200);
    const again = await feed("aws");
    expect(again.body.revocations).toHaveLength(2);
  });

  it("answers incrementally: since=1 lists only what came after entry 1", async () => {
    const r = await feed("vercel", 1);
    expect(r.body).toMatchObject({ since: 1, next: 2, complete: true });
    expect(r.body.revocations).toHaveLength(1);
    const tail = await feed("vercel", 2);
    expect(tail.body).toMatchObject({ since: 2, next: 2, complete: true, revocations: [] });
  });

  it("a revocation does not pass for a ticket, nor a ticket for a revocation", async () => {
    const r = await feed("cloudflare");
    const asTicket = await verifyTicket(r.body.revocations[0], mc.tc.cluster);
    expect(asTicket.valid).toBe(false);
    const asRevocation = await verifyRevocation(kept.tickets[0]?.ticket, mc.tc.cluster);
    expect(asRevocation.valid).toBe(false);
  });

  it("the buyer's tickets of the refunded order read revoked; the other stays valid", async () => {
    const r = await call(mc, "aws", "GET", "/v1/me/tickets", { token: alice });
    expect(r.status).toBe(200);
    const byId = new Map<string, { status: string; revocation?: unknown }>(
      r.body.items.map((t: { id: string; status: string }) => [t.id, t]),
    );
    for (const t of refunded.tickets) {
      expect(byId.get(t.id)?.status).toBe("revoked");
      expect((await verifyRevocation(byId.get(t.id)?.revocation, mc.tc.cluster)).valid).toBe(true);
    }
    expect(byId.get(kept.tickets[0]?.id ?? "")?.status).toBe("valid");
  });

  it("the buyer's export carries the revocations, and verifying it marks those tickets", async () => {
    const r = await call(mc, "cloudflare", "GET", "/v1/me/tickets/export", { token: alice });
    expect(r.status).toBe(200);
    expect(r.body.revocations).toHaveLength(2);
    const v = await verifyExport(r.body, { trusted: mc.tc.cluster });
    expect(v.valid).toBe(true);
    const marked = v.tickets.filter((t) => t.revoked).map((t) => t.tid);
    expect(marked.sort()).toEqual(refunded.tickets.map((t) => t.id).sort());
    // A revocation that does not verify is reported, and marks nothing.
    const bad = structuredClone(r.body);
    bad.revocations[0].signatures = bad.revocations[0].signatures.slice(0, 1);
    const vb = await verifyExport(bad, { trusted: mc.tc.cluster });
    expect(vb.reasons.map((x) => x.code)).toContain("invalid-revocation");
    expect(vb.tickets.filter((t) => t.revoked)).toHaveLength(1);
    // Taking the revocations out breaks the file's own signature.
    const { revocations: _gone, ...stripped } = r.body;
    const vs = await verifyExport(stripped, { trusted: mc.tc.cluster });
    expect(vs.valid).toBe(false);
    expect(vs.reasons.map((x) => x.code)).toContain("bad-export-signature");
  });

  it("the CLI says REVOKED (exit 1) for a ticket the feed revokes, fetched or saved", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tessera-revocations-"));
    vi.stubEnv("TESSERA_TRUSTED_KEYS", "");
    try {
      const keys = join(dir, "keys.json");
      await writeFile(keys, JSON.stringify(mc.tc.cluster));
      const ticket = join(dir, "ticket.json");
      await writeFile(ticket, JSON.stringify(refunded.tickets[0]?.ticket));
      const url = `${mc.tc.cluster.providers.aws.url}/v1/events/${eventId}/revocations`;
      const fetched = await loadRevocations(
        [url],
        normalizeTrust(mc.tc.cluster),
        mc.fetchVia("aws"),
      );
      expect(fetched.revoked.has(refunded.tickets[0]?.id ?? "")).toBe(true);
      const feedFile = join(dir, "feed.json");
      await writeFile(feedFile, JSON.stringify((await feed("vercel")).body));
      const verify = (extra: string[]) =>
        main(["ticket", "verify", ticket, "--keys", keys, ...extra]);
      expect(await verify([])).toBe(0);
      expect(cli.join("\n")).toContain("VALID ticket");
      cli.length = 0;
      expect(await verify(["--revocations", feedFile])).toBe(1);
      expect(cli.join("\n")).toMatch(/REVOKED ticket .*\n.*REVOKED \(refunded\)/);
      const keptFile = join(dir, "kept.json");
      await writeFile(keptFile, JSON.stringify(kept.tickets[0]?.ticket));
      expect(
        await main(["ticket", "verify", keptFile, "--keys", keys, "--revocations", feedFile]),
      ).toBe(0);
      // A feed needs trusted keys to mean anything.
      expect(await main(["ticket", "verify", keptFile, "--revocations", feedFile])).toBe(2);
    } finally {
      vi.unstubAllEnvs();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("unknown events are 404, a bad cursor is 400", async () => {
    expect((await call(mc, "aws", "GET", "/v1/events/nope/revocations", {})).status).toBe(404);
    const bad = await call(mc, "aws", "GET", `/v1/events/${eventId}/revocations?since=-1`, {});
    expect(bad.status).toBe(400);
  });
});

describe("a compromised provider", () => {
  it("cannot get a revocation co-signed for a ticket no refunded order yields", async () => {
    const victim = await buy(["stalls-a4"]);
    const tid = victim.tickets[0]?.id ?? "";
    // It writes an entry of its own choosing through the quorum (it coordinates changes).
    const store = directStore(mc.acceptors, () => mc.clock.ms);
    const pageKey = revocationPageKey(eventId, 0);
    const rat = Math.floor(mc.clock.ms / 1000);
    const forged = await store.change<RevocationPage>([pageKey], (cur) => {
      const entries = cur[0]?.entries ?? [];
      const n = entries.length;
      return [
        {
          entries: [
            ...entries,
            // A confirmed order's ticket, and a kept ticket under the refunded order's name.
            { seq: n + 1, tid, ord: victim.order.id, rsn: "refunded", rat, signatures: [] },
            {
              seq: n + 2,
              tid: kept.tickets[0]?.id ?? "",
              ord: refunded.order.id,
              rsn: "refunded",
              rat,
              signatures: [],
            },
            // A refunded ticket "cancelled" with its event, which is not cancelled.
            {
              seq: n + 3,
              tid: refunded.tickets[0]?.id ?? "",
              ord: refunded.order.id,
              rsn: "cancelled",
              rat,
              signatures: [],
            },
          ],
        },
      ];
    });
    expect(forged.ok).toBe(true);
    // No honest provider signs it: the order it names reads confirmed.
    for (const p of ["cloudflare", "vercel", "aws"] as const) {
      const from = p === "cloudflare" ? "vercel" : "cloudflare";
      const r = await requestRevocationSignatures(
        {
          to: p,
          url: mc.tc.cluster.providers[p].url,
          key: mc.tc.keys[from],
          now: () => mc.clock.ms,
          fetch: mc.fetchVia(from),
        },
        { eventId, seqs: [3, 4, 5] },
      );
      expect(r).toEqual({ ok: true, signatures: [null, null, null] });
    }
    // The feed holds back while the entry is young, then passes over it: never listed.
    const young = await feed("aws");
    expect(young.body).toMatchObject({ next: 2, complete: false });
    mc.clock.ms += 11 * 60_000;
    const later = await feed("aws");
    expect(later.body).toMatchObject({ next: 5, complete: true });
    const check = await checkFeeds([later.body], mc.tc.cluster);
    expect(check.revoked.has(tid)).toBe(false);
    expect(check.revoked.has(kept.tickets[0]?.id ?? "")).toBe(false);
    expect(check.revoked.size).toBe(2);
    expect([...check.revoked.values()].every((v) => v.rsn === "refunded")).toBe(true);
  });
});
