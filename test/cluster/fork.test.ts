import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { commitIdFor } from "../../functions/audit/commit-id.ts";
import { RemoteAcceptor } from "../../functions/peers/remote-acceptor.ts";
import { main } from "../../scripts/cli/main.ts";
import { localCronSecret } from "../../scripts/local/env.ts";
import { crossCheck } from "../../shared/audit/cross-check.ts";
import type { AuditEntry } from "../../shared/audit/entry.ts";
import type { SealedSegment } from "../../shared/audit/segment.ts";
import { issueLicense } from "../../shared/auth/license.ts";
import { createTheaterToken } from "../../shared/auth/theater-token.ts";
import { PROVIDERS, type PrivateJwk, type ProviderId } from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";
import { toCompact } from "../../shared/tickets/compact.ts";
import type { Ticket } from "../../shared/tickets/sign.ts";
import { verifyTicket } from "../../shared/tickets/verify.ts";
import { startTestCluster } from "../support/local-cluster.ts";
import { remoteStore, type Seeded, seedEvent } from "../support/seed.ts";

/**
 * The fork round trip on two real local clusters (each three providers on their stand-in stores):
 * buy in cluster A, export (buyer file and theater backup), start a fresh cluster B with other
 * keys, import, and scan A's tickets at B's door. Also the audit log of A, fetched and
 * cross-checked with the CLI. Two clusters take ~10-20 s to start: keep this to one file.
 */
type Cluster = Awaited<ReturnType<typeof startTestCluster>>;
let A: Cluster;
let B: Cluster;
let ev: Seeded;
let dir: string;
const THEATER = "th-fork";
const theaterKey: { key?: PrivateJwk } = {};
const licenses: Partial<Record<string, string>> = {};
let orderId: string;
let sold: { sectionId: string; seatId: string }[];
let exportFile: { tickets: Ticket[] } & Record<string, unknown>;
let backup: Record<string, unknown>;
const tokens = new Map<Cluster, string>();

let keyNo = 0;
const newKey = () => `fork-${Date.now().toString(36)}-${++keyNo}`;

// biome-ignore lint/suspicious/noExplicitAny: the test reads several response shapes
type Json = any;

async function http(
  c: Cluster,
  p: ProviderId,
  method: string,
  path: string,
  o: { body?: unknown; key?: string; buyer?: boolean; theater?: boolean } = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (o.body !== undefined) headers["content-type"] = "application/json";
  if (o.key) headers["idempotency-key"] = o.key;
  if (o.buyer) headers.authorization = `Bearer ${tokens.get(c)}`;
  if (o.theater) {
    const token = await createTheaterToken({
      license: licenses[c.cluster.clusterId]!,
      theaterKey: theaterKey.key!,
      method,
      path,
      now: Date.now(),
    });
    headers.authorization = `Tessera-Theater ${token}`;
  }
  const r = await fetch(`${c.providers[p].url}${path}`, {
    method,
    headers,
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  const text = await r.text();
  let body: Json = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, body, headers: r.headers };
}

async function setUp(c: Cluster) {
  licenses[c.cluster.clusterId] = await issueLicense({
    governanceKey: c.governanceKey,
    theaterId: THEATER,
    name: "Fork Theatre",
    theaterKey: publicOf(theaterKey.key!),
    scopes: ["venues", "events", "orders", "sales"],
    clusterId: c.cluster.clusterId,
    now: Date.now(),
    ttlS: 3600,
  });
  const r = await fetch(`${c.providers.cloudflare.url}/idp/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "alice" }),
  });
  tokens.set(c, ((await r.json()) as { access_token: string }).access_token);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-fork-"));
  theaterKey.key = await generateEd25519Jwk("fork-theatre");
  A = await startTestCluster("cluster-a");
  // B's operators vouch for A's published keys, so buyers' orders follow the theater's import.
  B = await startTestCluster("cluster-b", {
    TESSERA_TRUSTED_CLUSTERS: JSON.stringify(A.cluster),
    // Each local cluster runs its own development identity provider; B's operators declare A's
    // the same one, as a fork keeping its buyers' accounts would.
    TESSERA_OIDC_ISSUER_ALIASES: JSON.stringify([`${A.cluster.providers.cloudflare.url}/idp`]),
  });
  await Promise.all([setUp(A), setUp(B)]);
  ev = await seedEvent(remoteStore(A), { nowMs: Date.now(), theaterId: THEATER });
}, 180_000);
afterAll(async () => {
  await Promise.allSettled([A?.dispose(), B?.dispose()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const seatsOf = async (c: Cluster) =>
  (await http(c, "vercel", "GET", `/v1/events/${ev.eventId}/seats`)).body;

describe("fork round trip between two real clusters", () => {
  it("buys in cluster A and exports the buyer's tickets and the theater's backup", async () => {
    sold = [ev.seats[3]!, ev.seats[4]!, { sectionId: ev.gaAreaId, seatId: `${ev.gaAreaId}-1` }];
    const hold = await http(A, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
      buyer: true,
      key: newKey(),
      body: { seats: sold },
    });
    expect(hold.status).toBe(201);
    const card = { number: "4242424242424242", expMonth: 12, expYear: 2099, cvc: "123" };
    const c = await http(A, "aws", "POST", `/v1/holds/${hold.body.holdId}/confirm`, {
      buyer: true,
      key: newKey(),
      body: { card },
    });
    expect(c.status).toBe(201);
    orderId = c.body.order.id;
    const mine = await http(A, "vercel", "GET", "/v1/me/tickets/export", { buyer: true });
    expect(mine.status).toBe(200);
    exportFile = mine.body;
    expect(exportFile.tickets).toHaveLength(3);
    const b = await http(A, "aws", "GET", "/v1/manage/backup", { theater: true });
    expect(b.status).toBe(200);
    backup = b.body;
    expect(backup.clusterId).toBe("cluster-a");
    // B is a different cluster with different keys: A's tickets do not verify with B's keys.
    expect(B.cluster.providers.aws.publicJwk.x).not.toBe(A.cluster.providers.aws.publicJwk.x);
    expect((await verifyTicket(exportFile.tickets[0], B.cluster)).valid).toBe(false);
  });

  it("refuses a tampered backup with 422 and a report", async () => {
    const forged = structuredClone(backup) as { seats: { state: string }[] };
    const free = forged.seats.find((x) => x.state === "available");
    if (free) free.state = "sold";
    else forged.seats.pop();
    const r = await http(B, "vercel", "POST", "/v1/manage/import", {
      theater: true,
      key: newKey(),
      body: forged,
    });
    expect(r.status).toBe(422);
    expect(r.body.report.ok).toBe(false);
    expect(r.body.report.issues.length).toBeGreaterThan(0);
  });

  it("imports into fresh cluster B: sold seats stay sold, the rest available, counts exact", async () => {
    const r = await http(B, "cloudflare", "POST", "/v1/manage/import", {
      theater: true,
      key: newKey(),
      body: backup,
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      fromCluster: "cluster-a",
      trusted: ["cluster-a"],
      counts: {
        seats: { created: 3, unchanged: 0 },
        orders: { created: 1, unchanged: 0 },
        tickets: { created: 3, unchanged: 0 },
        events: { created: 1, unchanged: 0 },
      },
    });
    const [a, b] = await Promise.all([seatsOf(A), seatsOf(B)]);
    expect(b).toEqual(a);
    const soldIds = JSON.stringify(b).match(/"sold"/g) ?? [];
    expect(soldIds.length).toBeGreaterThanOrEqual(3);
  });

  it("importing twice changes nothing", async () => {
    const before = await seatsOf(B);
    const r = await http(B, "aws", "POST", "/v1/manage/import", {
      theater: true,
      key: newKey(),
      body: backup,
    });
    expect(r.status).toBe(200);
    for (const c of Object.values(r.body.counts) as { created: number }[])
      expect(c.created).toBe(0);
    expect(await seatsOf(B)).toEqual(before);
  });

  it("A's tickets scan valid at B's door (JSON and compact), once; B's keys did not sign them", async () => {
    for (const [i, t] of exportFile.tickets.entries()) {
      const via = PROVIDERS[i % 3]!;
      const v = await http(B, via, "POST", "/v1/door/verify", {
        theater: true,
        body: { ticket: i === 1 ? toCompact(t, { maxSignatures: 2 }) : t },
      });
      expect(v.status).toBe(200);
      expect(v.body).toMatchObject({ valid: true, cluster: "former", reasons: [] });
      expect(v.body.claims.ord).toBe(orderId);
    }
    const t = exportFile.tickets[0]!;
    const first = await http(B, "vercel", "POST", "/v1/door/verify", {
      theater: true,
      body: { ticket: t, checkIn: true },
    });
    expect(first.body).toMatchObject({ valid: true, checkedIn: { now: true } });
    const again = await http(B, "aws", "POST", "/v1/door/verify", {
      theater: true,
      body: { ticket: t, checkIn: true },
    });
    expect(again.body.valid).toBe(false);
    expect(again.body.reasons[0].code).toBe("already-checked-in");
  });

  it("the buyer links the exported tickets in B", async () => {
    const r = await http(B, "aws", "POST", "/v1/me/tickets/import", {
      buyer: true,
      key: newKey(),
      body: exportFile,
    });
    expect(r.status).toBe(200);
    expect(r.body.refused).toBe(0);
    expect(r.body.linked + r.body.unchanged).toBe(3);
    const list = await http(B, "cloudflare", "GET", "/v1/me/tickets", { buyer: true });
    expect(list.body.items).toHaveLength(3);
  });

  it("A's audit log: fetched, verified and cross-checked; every chosen write on ≥ 2 providers", async () => {
    for (const p of PROVIDERS) {
      const r = await fetch(`${A.providers[p].url}/internal/anti-entropy?prefix=none/`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${localCronSecret(A.cluster, A.governanceKey)}`,
        },
      });
      expect(r.status).toBe(200);
    }
    const out = join(dir, "audit");
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      expect(
        await main(["audit", "fetch", "--endpoint", A.providers.cloudflare.url, "--out", out]),
      ).toBe(0);
      const files = PROVIDERS.map((p) => join(out, `${p}.json`));
      expect(await main(["audit", "cross-check", ...files, "--keys", join(out, "keys.json")])).toBe(
        0,
      );
    } finally {
      log.mockRestore();
    }
    const { readFile } = await import("node:fs/promises");
    const logs: Partial<Record<ProviderId, AuditEntry[]>> = {};
    for (const p of PROVIDERS) {
      const segs = JSON.parse(await readFile(join(out, `${p}.json`), "utf8")) as SealedSegment[];
      logs[p] = segs.flatMap((s) => s.segment.entries);
    }
    const report = crossCheck(logs);
    expect(report.conflicts).toBe(0);
    const byId = new Map(report.commits.map((c) => [c.commitId, c]));
    // The chosen value of each sold seat and of the order: the ballot two stores hold.
    const keys = [
      ...sold.map((s) => `seat/${ev.eventId}/${s.sectionId}/${s.seatId}`),
      `order/${orderId}`,
    ];
    const reads = await Promise.all(
      PROVIDERS.map((p, i) =>
        new RemoteAcceptor({
          to: p,
          url: A.cluster.providers[p].url,
          key: A.keys[PROVIDERS[(i + 1) % 3]!],
          now: Date.now,
        }).read(keys),
      ),
    );
    for (const [j, key] of keys.entries()) {
      const ballots = reads.map((r) => r[j]!.accepted);
      const chosen = ballots.find((b) => ballots.filter((x) => x === b).length >= 2)!;
      const c = byId.get(await commitIdFor(key, chosen));
      expect(c?.providers.length ?? 0, key).toBeGreaterThanOrEqual(2);
    }
  });
});
