import { beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../shared/config.ts";
import { seatKey } from "../../../shared/domain/keys.ts";
import { GC_RETENTION_MS } from "../../../shared/quorum/gc.ts";
import { HOLD_TTL_MS, RECORD_RETENTION_MS, SKEW_MARGIN_MS } from "../../../shared/seats/changes.ts";
import { type MemoryCluster, startMemoryCluster } from "../../support/memory-cluster.ts";
import { directStore, type Seeded, seedEvent } from "../../support/seed.ts";
import { CARD_OK, call, newKey } from "./buyer/helpers.ts";

const SECRET = "sweep-test-cron-secret-0123456789";

let mc: MemoryCluster;
let ev: Seeded;
let alice: string;

beforeAll(async () => {
  mc = await startMemoryCluster({ clusterId: "seat-sweep", env: { CRON_SECRET: SECRET } });
  ev = await seedEvent(
    directStore(mc.acceptors, () => mc.clock.ms),
    { nowMs: mc.clock.ms },
  );
  alice = await mc.tokenFor("alice");
});

interface SweepBody {
  sweep: Record<"hold/" | "idem/", { expired: number; swept: number; failed: number }>;
  gc: { deleted: number };
}
const scheduled = async (p: "cloudflare" | "vercel" | "aws" = "aws"): Promise<SweepBody> => {
  const r = await mc.request(p, "/internal/anti-entropy", {
    method: "POST",
    headers: { authorization: `Bearer ${SECRET}` },
  });
  expect(r.status).toBe(200);
  return (await r.json()) as SweepBody;
};
/** The value each store holds for `key` (undefined: no record at all). */
const stored = (key: string) =>
  PROVIDERS.map((p) => {
    const rec = mc.acceptors[p].records.get(key);
    return rec === undefined ? undefined : rec.value === null ? null : JSON.parse(rec.value);
  });
const seat = (i: number) => ev.seats[i]!;
const seatKeyOf = (i: number) => seatKey(ev.eventId, seat(i).sectionId, seat(i).seatId);

describe("the scheduled seat sweep", () => {
  const key = newKey();
  let holdId: string;

  it("frees the seats of a hold nobody came back for, once it is past expiry", async () => {
    const r = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      key,
      body: { seats: [seat(0), seat(1)] },
    });
    expect(r.status).toBe(201);
    holdId = r.body.holdId;
    expect((await scheduled()).sweep["hold/"]).toMatchObject({ expired: 0, swept: 0 });
    mc.clock.ms += HOLD_TTL_MS + SKEW_MARGIN_MS + 1;
    expect((await scheduled()).sweep["hold/"]).toMatchObject({ expired: 1, failed: 0 });
    for (const i of [0, 1]) {
      expect(stored(seatKeyOf(i)).filter((v) => v?.state === "free")).toHaveLength(3);
    }
    expect(stored(`hold/${holdId}`).filter((v) => v?.state === "expired").length).toBeGreaterThan(
      1,
    );
  });

  it("writes the hold and its claim null past the retention, and the collector deletes them", async () => {
    mc.clock.ms += RECORD_RETENTION_MS;
    const body = await scheduled("vercel");
    expect(body.sweep["hold/"].swept).toBe(1);
    expect(body.sweep["idem/"].swept).toBeGreaterThanOrEqual(1);
    expect(stored(`hold/${holdId}`).filter((v) => v === null).length).toBeGreaterThan(1);
    // Ballots are floored by the clock but pushed past each other, so a few ms past it.
    mc.clock.ms += GC_RETENTION_MS + 1_000;
    // The first pass copies the tombstone to the third store if it missed it; one more deletes.
    await scheduled();
    await scheduled();
    expect(stored(`hold/${holdId}`)).toEqual([undefined, undefined, undefined]);
  });

  it("a retry after the claim was swept is a new request", async () => {
    // A week has passed: a fresh sign-in.
    alice = await mc.tokenFor("alice");
    const r = await call(mc, "aws", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      key,
      body: { seats: [seat(0), seat(1)] },
    });
    expect(r.status).toBe(201);
    expect(r.body.holdId).not.toBe(holdId);
  });

  it("never sweeps a sale: the hold stays sold and a late confirm retry still replays", async () => {
    const h = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      key: newKey(),
      body: { seats: [seat(5)] },
    });
    expect(h.status).toBe(201);
    const confirmKey = newKey();
    const confirm = () =>
      call(mc, "vercel", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
        token: alice,
        key: confirmKey,
        body: { card: CARD_OK },
      });
    const first = await confirm();
    expect(first.status).toBe(201);
    mc.clock.ms += RECORD_RETENTION_MS + HOLD_TTL_MS + 2 * SKEW_MARGIN_MS;
    const body = await scheduled();
    expect(body.sweep["idem/"].swept).toBeGreaterThanOrEqual(2);
    expect(stored(`hold/${h.body.holdId}`).filter((v) => v?.state === "sold").length).toBe(3);
    expect(stored(seatKeyOf(5)).every((v) => v?.state === "sold")).toBe(true);
    alice = await mc.tokenFor("alice");
    const again = await confirm();
    expect(again.status).toBeLessThan(300);
    expect(again.body.order.id).toBe(first.body.order.id);
  });
});
