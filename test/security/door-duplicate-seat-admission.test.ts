import { beforeAll, describe, expect, it } from "vitest";
import type { ProviderId } from "../../shared/config.ts";
import type { TicketClaims } from "../../shared/tickets/claims.ts";
import { toCompact } from "../../shared/tickets/compact.ts";
import { assembleTicket, signTicketClaims, type Ticket } from "../../shared/tickets/sign.ts";
import { CARD_OK, call, newKey } from "../functions/routes/buyer/helpers.ts";
import { licensedTheater, manage, type TheaterCreds } from "../functions/routes/manage/helpers.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";
import { directStore, type Seeded, seedEvent } from "../support/seed.ts";

/**
 * Issue #11 item 2: check-in was keyed by ticket id, so a second genuine-looking ticket for the
 * same seat under another id walked in too; and check-ins did not travel with a fork, so a ticket
 * used before the fork was admitted again after it. Admission is per seat of an event.
 */

let a: MemoryCluster;
let b: MemoryCluster;
let ev: Seeded;
let thA: TheaterCreds;
let thB: TheaterCreds;
let tickets: Ticket[];

const claimsOf = (t: Ticket): TicketClaims =>
  JSON.parse(Buffer.from(t.payload, "base64url").toString()) as TicketClaims;

/**
 * Another ticket for the same seat and order under another id, with two genuine provider
 * signatures: what a coordinator gets when the witnesses sign claims whose `tid` it chose.
 */
async function twin(t: Ticket, tid: string): Promise<Ticket> {
  const claims = { ...claimsOf(t), tid };
  const sigs = await Promise.all(
    (["cloudflare", "aws"] as const).map((p) => signTicketClaims(claims, a.tc.keys[p], p)),
  );
  return assembleTicket(claims, sigs);
}

const door = (mc: MemoryCluster, t: TheaterCreds, ticket: unknown, p: ProviderId = "aws") =>
  manage(mc, p, t, "POST", "/v1/door/verify", { body: { ticket, checkIn: true } });
const codes = (r: { body: { reasons: { code: string }[] } }) => r.body.reasons.map((x) => x.code);

beforeAll(async () => {
  a = await startMemoryCluster({ clusterId: "cluster-a" });
  b = await startMemoryCluster({ clusterId: "cluster-b" });
  ev = await seedEvent(
    directStore(a.acceptors, () => a.clock.ms),
    { nowMs: a.clock.ms },
  );
  thA = await licensedTheater(a, ev.theaterId);
  thB = await licensedTheater(b, ev.theaterId);
  const alice = await a.tokenFor("alice");
  const hold = await call(a, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
    token: alice,
    key: newKey(),
    body: { seats: [ev.seats[0], ev.seats[1], ev.seats[2], ev.seats[3]] },
  });
  expect(hold.status).toBe(201);
  const confirm = await call(a, "vercel", "POST", `/v1/holds/${hold.body.holdId}/confirm`, {
    token: alice,
    key: newKey(),
    body: { card: CARD_OK },
  });
  expect(confirm.status).toBe(201);
  const mine = await call(a, "aws", "GET", "/v1/me/tickets/export", { token: alice });
  tickets = mine.body.tickets as Ticket[];
  expect(tickets).toHaveLength(4);
  // A check-in made before admission was per seat: keyed by ticket, as the door used to write it.
  const legacy = claimsOf(tickets[3]!);
  await directStore(a.acceptors, () => a.clock.ms).change(
    [`event/${legacy.evt}/checkin/${legacy.tid}`],
    () => [
      {
        ticketId: legacy.tid,
        at: "2026-11-25T11:00:00.000Z",
        theaterId: ev.theaterId,
        scan: "old",
      },
    ],
  );
});

describe("door admission is per seat", () => {
  it("a second, different ticket for an admitted seat is refused and reported", async () => {
    const first = await door(a, thA, tickets[0]);
    expect(first.body).toMatchObject({ valid: true, checkedIn: { now: true } });
    const other = await twin(tickets[0]!, "tDuplicateOfSeatZero");
    const second = await door(a, thA, other, "vercel");
    expect(second.body.valid).toBe(false);
    expect(codes(second)).toContain("seat-already-admitted");
    expect(second.body.checkedIn).toMatchObject({
      now: false,
      ticketId: claimsOf(tickets[0]!).tid,
    });
    // In compact form too, at a third door.
    const third = await door(a, thA, toCompact(other, { maxSignatures: 2 }), "cloudflare");
    expect(third.body.valid).toBe(false);
  });

  it("two different tickets for one seat checked in at once on different providers: one admitted", async () => {
    const t1 = tickets[1]!;
    const t2 = await twin(t1, "tRacingTwinOfSeatOne");
    const rs = await Promise.all([door(a, thA, t1, "cloudflare"), door(a, thA, t2, "vercel")]);
    expect(rs.map((r) => r.status)).toEqual([200, 200]);
    expect(rs.filter((r) => r.body.valid)).toHaveLength(1);
  });
});

describe("check-ins made before admission was per seat", () => {
  it("still refuse the ticket that made them", async () => {
    const r = await door(a, thA, tickets[3]);
    expect(r.body.valid).toBe(false);
    expect(codes(r)).toContain("already-checked-in");
  });
});

describe("check-ins travel with the backup and a fork import", () => {
  it("the backup lists the admitted seats", async () => {
    const r = await manage(a, "aws", thA, "GET", "/v1/manage/backup");
    expect(r.status).toBe(200);
    const seats = (r.body.checkIns as { seatId: string }[]).map((c) => c.seatId).sort();
    const used = [tickets[0]!, tickets[1]!, tickets[3]!].map((t) => claimsOf(t).seat.id);
    expect(seats).toEqual(used.sort());
  });

  it("a ticket admitted before the fork is not admitted again after it", async () => {
    const backup = (await manage(a, "aws", thA, "GET", "/v1/manage/backup")).body;
    const imp = await manage(b, "cloudflare", thB, "POST", "/v1/manage/import", {
      key: newKey(),
      body: backup,
    });
    expect(imp.status, JSON.stringify(imp.body).slice(0, 600)).toBe(200);
    const again = await door(b, thB, tickets[0]);
    expect(again.body.valid).toBe(false);
    expect(codes(again)).toContain("already-checked-in");
    const twinAfter = await door(b, thB, await twin(tickets[0]!, "tTwinAfterTheFork"), "vercel");
    expect(twinAfter.body.valid).toBe(false);
    expect(codes(twinAfter)).toContain("seat-already-admitted");
    const legacyTwin = await door(b, thB, await twin(tickets[3]!, "tTwinOfALegacyCheckIn"));
    expect(codes(legacyTwin)).toContain("seat-already-admitted");
    // A seat never admitted before the fork still gets in once.
    expect((await door(b, thB, tickets[2])).body).toMatchObject({ valid: true });
    expect((await door(b, thB, tickets[2], "vercel")).body.valid).toBe(false);
  });
});
