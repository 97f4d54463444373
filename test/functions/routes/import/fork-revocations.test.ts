import { beforeAll, describe, expect, it } from "vitest";
import { verifyBackup } from "../../../../shared/formats/verify-backup.ts";
import { checkFeeds } from "../../../../shared/tickets/revocation-feed.ts";
import type { Ticket } from "../../../../shared/tickets/sign.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import { directStore, type Seeded, seedEvent } from "../../../support/seed.ts";
import { CARD_OK, call, newKey } from "../buyer/helpers.ts";
import { licensedTheater, manage, type TheaterCreds } from "../manage/helpers.ts";

/**
 * Revocations travel with a theatre: its backup carries its events' co-signed revocations (and
 * verifies although a refunded ticket's seat is no longer sold), and a fork that imports it
 * revokes the same tickets in its own feed, signed by its own providers.
 */

let a: MemoryCluster;
let b: MemoryCluster;
let ev: Seeded;
let thA: TheaterCreds;
let thB: TheaterCreds;
let refundedTickets: { id: string; ticket: Ticket }[];
let keptTicket: Ticket;
let backup: Record<string, unknown>;

async function buy(seats: Seeded["seats"]) {
  const alice = await a.tokenFor("alice");
  const hold = await call(a, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
    token: alice,
    key: newKey(),
    body: { seats },
  });
  expect(hold.status).toBe(201);
  const c = await call(a, "vercel", "POST", `/v1/holds/${hold.body.holdId}/confirm`, {
    token: alice,
    key: newKey(),
    body: { card: CARD_OK },
  });
  expect(c.status).toBe(201);
  return c.body as { order: { id: string }; tickets: { id: string; ticket: Ticket }[] };
}

beforeAll(async () => {
  a = await startMemoryCluster({ clusterId: "cluster-a" });
  b = await startMemoryCluster({
    clusterId: "cluster-b",
    env: { TESSERA_TRUSTED_CLUSTERS: JSON.stringify(a.tc.cluster) },
  });
  ev = await seedEvent(
    directStore(a.acceptors, () => a.clock.ms),
    { nowMs: a.clock.ms },
  );
  thA = await licensedTheater(a, ev.theaterId);
  thB = await licensedTheater(b, ev.theaterId);
  const refunded = await buy([ev.seats[0]!, ev.seats[1]!]);
  const kept = await buy([ev.seats[2]!]);
  keptTicket = kept.tickets[0]!.ticket;
  refundedTickets = refunded.tickets;
  const r = await manage(a, "aws", thA, "POST", `/v1/manage/orders/${refunded.order.id}/refund`, {
    key: newKey(),
  });
  expect(r.status).toBe(200);
  const bk = await manage(a, "aws", thA, "GET", "/v1/manage/backup");
  expect(bk.status).toBe(200);
  backup = bk.body;
});

describe("revocations in backups and fork imports", () => {
  it("the backup carries the co-signed revocations and verifies with a refunded order in it", async () => {
    expect(backup.formatVersion).toBe(3);
    expect(backup.revocations).toHaveLength(2);
    const report = await verifyBackup(backup, { trusted: a.tc.cluster });
    expect(report.issues).toEqual([]);
    expect(report.revoked).toBe(2);
    // Without its revocations, the refunded tickets are not backed by sold seats: the file says so.
    const {
      revocations: _r,
      checksums,
      ...rest
    } = backup as {
      revocations: unknown;
      checksums: Record<string, string>;
    };
    const { revocations: _s, ...v2Sums } = checksums;
    const v2 = await verifyBackup({ ...rest, formatVersion: 2, checksums: v2Sums });
    expect(v2.issues.map((i) => i.code)).toContain("reference");
    // A revocation that does not verify is reported, and revokes nothing.
    const bad = structuredClone(backup) as { revocations: Ticket[] };
    bad.revocations[0]!.signatures = bad.revocations[0]!.signatures.slice(0, 1);
    const rb = await verifyBackup(bad, { trusted: a.tc.cluster });
    expect(rb.issues.map((i) => i.code)).toContain("revocation");
  });

  it("a fork that imports it revokes the same tickets in its own feed, signed by its providers", async () => {
    const r = await manage(b, "cloudflare", thB, "POST", "/v1/manage/import", {
      key: newKey(),
      body: backup,
    });
    expect(r.status).toBe(200);
    const feed = await call(b, "vercel", "GET", `/v1/events/${ev.eventId}/revocations`, {});
    expect(feed.status).toBe(200);
    expect(feed.body).toMatchObject({ clusterId: "cluster-b", complete: true, next: 2 });
    const check = await checkFeeds([feed.body], b.tc.cluster);
    expect([...check.revoked.keys()].sort()).toEqual(refundedTickets.map((t) => t.id).sort());
    // Signed by the fork, not the former cluster: A's keys do not check it.
    expect((await checkFeeds([feed.body], a.tc.cluster)).revoked.size).toBe(0);
    // The fork's door refuses a refunded ticket, and admits the kept one.
    const door = (ticket: unknown) =>
      manage(b, "aws", thB, "POST", "/v1/door/verify", { body: { ticket, checkIn: false } });
    const refused = await door(refundedTickets[0]!.ticket);
    expect(refused.body.valid).toBe(false);
    expect(refused.body.reasons.map((x: { code: string }) => x.code)).toContain("revoked");
    expect((await door(keptTicket)).body.valid).toBe(true);
  });
});
