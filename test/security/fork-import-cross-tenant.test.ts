import { beforeAll, describe, expect, it } from "vitest";
import { Sha256 } from "../../shared/crypto/sha256.ts";
import { elementLine } from "../../shared/formats/backup.ts";
import { verifyBackup } from "../../shared/formats/verify-backup.ts";
import { normalizeTrust, toClusterKeys } from "../../shared/tickets/trust.ts";
import { CARD_OK, call, newKey } from "../functions/routes/buyer/helpers.ts";
import { licensedTheater, manage, type TheaterCreds } from "../functions/routes/manage/helpers.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";
import { directStore, type Seeded, seedEvent } from "../support/seed.ts";

/**
 * Issue #11 item 3: a theater's fork import was not confined to its own data. A backup could carry
 * orders naming another theater's event (inflating its revenue and breaking its backup) and put
 * orders and tickets into any buyer's account on the strength of keys the file itself supplied.
 */

type Backup = Record<string, unknown> & {
  orders: Record<string, unknown>[];
  checksums: Record<string, string>;
};

let evil: MemoryCluster; // a cluster the attacking theater runs itself: its keys are made up
let b: MemoryCluster; // the cluster the attacker imports into
let bTrusting: MemoryCluster; // another cluster whose operators vouch for the evil cluster's keys
let evilEvent: Seeded;
let victimEvent: Seeded;
let evilA: TheaterCreds;
let evilB: TheaterCreds;
let victimB: TheaterCreds;
let backup: Backup;

/** Recomputes one section's checksum after an edit: checksums are not signatures. */
function reseal(f: Backup, section: string): Backup {
  const h = new Sha256();
  for (const el of f[section] as unknown[]) h.update(elementLine(el));
  return { ...f, checksums: { ...f.checksums, [section]: h.hex() } };
}

async function buy(mc: MemoryCluster, ev: Seeded, user: string, n: number) {
  const token = await mc.tokenFor(user);
  const hold = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
    token,
    key: newKey(),
    body: { seats: ev.seats.slice(0, n) },
  });
  expect(hold.status).toBe(201);
  const confirm = await call(mc, "vercel", "POST", `/v1/holds/${hold.body.holdId}/confirm`, {
    token,
    key: newKey(),
    body: { card: CARD_OK },
  });
  expect(confirm.status).toBe(201);
}

const summary = async (mc: MemoryCluster, t: TheaterCreds, ev: Seeded) =>
  (await manage(mc, "aws", t, "GET", `/v1/manage/events/${ev.eventId}/summary`)).body;

beforeAll(async () => {
  evil = await startMemoryCluster({ clusterId: "cluster-evil" });
  const evilKeys = toClusterKeys(normalizeTrust(evil.tc.cluster)[0]!);
  b = await startMemoryCluster({ clusterId: "cluster-b" });
  bTrusting = await startMemoryCluster({
    clusterId: "cluster-c",
    env: { TESSERA_TRUSTED_CLUSTERS: JSON.stringify({ trusted: [evilKeys] }) },
  });
  evilEvent = await seedEvent(
    directStore(evil.acceptors, () => evil.clock.ms),
    {
      nowMs: evil.clock.ms,
      theaterId: "th-evil",
    },
  );
  victimEvent = await seedEvent(
    directStore(b.acceptors, () => b.clock.ms),
    {
      nowMs: b.clock.ms,
      theaterId: "th-victim",
    },
  );
  evilA = await licensedTheater(evil, "th-evil");
  evilB = await licensedTheater(b, "th-evil");
  victimB = await licensedTheater(b, "th-victim");
  // On its own cluster the attacker "sells" to carol: its identity provider signs in anyone.
  await buy(evil, evilEvent, "carol", 2);
  await buy(b, victimEvent, "bob", 1);
  backup = (await manage(evil, "aws", evilA, "GET", "/v1/manage/backup")).body as Backup;
  expect(backup.orders).toHaveLength(1);
});

describe("a fork import may touch the importing theater's own events only", () => {
  it("refuses orders naming another theater's event; its revenue and backup stay intact", async () => {
    const before = await summary(b, victimB, victimEvent);
    const forged = structuredClone(backup);
    forged.orders.push({
      ...forged.orders[0]!,
      id: "ord-into-the-victim",
      eventId: victimEvent.eventId,
      total: { amount: 99_999_00, currency: "EUR" },
    });
    const r = await manage(b, "cloudflare", evilB, "POST", "/v1/manage/import", {
      key: newKey(),
      body: reseal(forged, "orders"),
    });
    expect(r.status).toBe(422);
    expect(await summary(b, victimB, victimEvent)).toEqual(before);
    const victimBackup = await manage(b, "aws", victimB, "GET", "/v1/manage/backup");
    expect((await verifyBackup(victimBackup.body)).issues).toEqual([]);
  });

  it("puts nothing into a buyer's account on keys the file supplied", async () => {
    const r = await manage(b, "cloudflare", evilB, "POST", "/v1/manage/import", {
      key: newKey(),
      body: backup,
    });
    expect(r.status).toBe(200);
    const carol = await b.tokenFor("carol");
    expect((await call(b, "vercel", "GET", "/v1/me/orders", { token: carol })).body.items).toEqual(
      [],
    );
    expect((await call(b, "aws", "GET", "/v1/me/tickets", { token: carol })).body.items).toEqual(
      [],
    );
    // Nor can carol be made to link them herself: the export's keys are the attacker's own.
    const exp = await call(evil, "aws", "GET", "/v1/me/tickets/export", {
      token: await evil.tokenFor("carol"),
    });
    const link = await call(b, "vercel", "POST", "/v1/me/tickets/import", {
      token: carol,
      key: newKey(),
      body: exp.body,
    });
    expect(link.status === 422 || link.body.linked === 0).toBe(true);
    expect((await call(b, "aws", "GET", "/v1/me/tickets", { token: carol })).body.items).toEqual(
      [],
    );
  });

  it("links buyers only where this cluster's operators trust the former cluster's keys", async () => {
    const evilC = await licensedTheater(bTrusting, "th-evil");
    const r = await manage(bTrusting, "cloudflare", evilC, "POST", "/v1/manage/import", {
      key: newKey(),
      body: backup,
    });
    expect(r.status).toBe(200);
    const carol = await bTrusting.tokenFor("carol");
    const orders = await call(bTrusting, "vercel", "GET", "/v1/me/orders", { token: carol });
    expect(orders.body.items).toHaveLength(1);
  });
});
