import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROVIDERS } from "../../shared/config.ts";
import { Sha256 } from "../../shared/crypto/sha256.ts";
import { elementLine } from "../../shared/formats/backup.ts";
import { CARD_OK, call, newKey } from "../functions/routes/buyer/helpers.ts";
import { licensedTheater, manage } from "../functions/routes/manage/helpers.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";
import { directStore, seedEvent } from "../support/seed.ts";
import { nastyStrings } from "./nasty.ts";

/**
 * Hostile fork imports (issue #11 item 3): a theater's genuine backup, edited so that its orders,
 * sold seats or check-ins name another theater's event (or that theater), checksums resealed. The
 * import must answer without a 5xx and leave every record of the other theater's event, and every
 * buyer's account, exactly as it was: the source cluster's keys are the file's own, which this
 * cluster's operators never listed.
 */

const RUNS = 40;
const BUDGET_MS = 20_000;
const SEED = 20_261_126;

const source: MemoryCluster = await startMemoryCluster({ clusterId: "fuzz-source" });
const target: MemoryCluster = await startMemoryCluster({ clusterId: "fuzz-target" });
const own = await seedEvent(
  directStore(source.acceptors, () => source.clock.ms),
  {
    nowMs: source.clock.ms,
    theaterId: "th-a",
  },
);
const other = await seedEvent(
  directStore(target.acceptors, () => target.clock.ms),
  {
    nowMs: target.clock.ms,
    theaterId: "th-b",
  },
);
const thSource = await licensedTheater(source, "th-a");
const thTarget = await licensedTheater(target, "th-a");

const token = await source.tokenFor("alice");
const hold = await call(source, "cloudflare", "POST", `/v1/events/${own.eventId}/holds`, {
  token,
  key: newKey(),
  body: { seats: own.seats.slice(0, 2) },
});
await call(source, "vercel", "POST", `/v1/holds/${hold.body.holdId}/confirm`, {
  token,
  key: newKey(),
  body: { card: CARD_OK },
});
const exported = await call(source, "aws", "GET", "/v1/me/tickets/export", { token });
await manage(source, "aws", thSource, "POST", "/v1/door/verify", {
  body: { ticket: exported.body.tickets[0], checkIn: true },
});
// biome-ignore lint/suspicious/noExplicitAny: a backup file is edited as plain JSON
const genuine: any = (await manage(source, "aws", thSource, "GET", "/v1/manage/backup")).body;

/** What must never change: the other theater's event and theater records, and buyers' accounts. */
const guarded = (k: string) =>
  k.includes(other.eventId) || k.includes("th-b") || k.startsWith("buyer/");

function snapshot(): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of PROVIDERS) {
    for (const [k, r] of target.acceptors[p].records) {
      if (guarded(k) && r.value !== null) out.set(`${p} ${k}`, r.value);
    }
  }
  return out;
}

// biome-ignore lint/suspicious/noExplicitAny: see above
function reseal(f: any): any {
  for (const section of Object.keys(f.checksums)) {
    const h = new Sha256();
    for (const el of f[section]) h.update(elementLine(el));
    f.checksums[section] = h.hex();
  }
  return f;
}

const victimEvent = fc.oneof(fc.constant(other.eventId), fc.constantFrom(...nastyStrings));
const edit = fc.oneof(
  fc.record({ kind: fc.constant("order-event" as const), to: victimEvent }),
  fc.record({ kind: fc.constant("order-theater" as const), to: fc.constant("th-b") }),
  fc.record({ kind: fc.constant("extra-order" as const), to: victimEvent }),
  fc.record({ kind: fc.constant("seat-event" as const), to: victimEvent }),
  fc.record({ kind: fc.constant("check-in" as const), to: victimEvent }),
);

// biome-ignore lint/suspicious/noExplicitAny: see above
function apply(f: any, e: { kind: string; to: string }): any {
  const order = f.orders[0];
  switch (e.kind) {
    case "order-event":
      order.eventId = e.to;
      break;
    case "order-theater":
      order.theaterId = e.to;
      break;
    case "extra-order":
      f.orders.push({ ...order, id: "ord-hostile", eventId: e.to });
      break;
    case "seat-event":
      for (const s of f.seats) if (s.state === "sold") s.eventId = e.to;
      break;
    case "check-in":
      f.checkIns.push({
        eventId: e.to,
        seatId: other.seats[0]!.seatId,
        ticketId: "t-hostile",
        orderId: order.id,
        at: "2026-11-25T12:00:00Z",
      });
      break;
  }
  return f;
}

describe("fuzz: hostile cross-theater fork imports", () => {
  it("never touch another theater's event or a buyer's account", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        async (edits, sealed) => {
          let f = structuredClone(genuine);
          for (const e of edits) f = apply(f, e);
          if (sealed) f = reseal(f);
          const before = snapshot();
          const r = await manage(target, "cloudflare", thTarget, "POST", "/v1/manage/import", {
            key: newKey(),
            body: f,
          });
          expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBeLessThan(500);
          expect(r.status).not.toBe(200);
          const after = snapshot();
          const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
            (k) => before.get(k) !== after.get(k),
          );
          expect(changed).toEqual([]);
        },
      ),
      { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: BUDGET_MS },
    );
    // The unedited backup imports, and still links no buyer: its keys are only its own.
    const ok = await manage(target, "cloudflare", thTarget, "POST", "/v1/manage/import", {
      key: newKey(),
      body: genuine,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.buyerLinksWithheld).toBe(1);
    expect([...snapshot().keys()].filter((k) => k.includes("buyer/"))).toEqual([]);
  });
});
