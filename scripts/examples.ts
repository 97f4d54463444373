/**
 * `npx tsx scripts/examples.ts`: regenerates docs/examples/ticket.json from a REAL purchase. It
 * starts a throwaway local cluster ("tessera-example", three providers on their stand-ins), sets up
 * a theatre through the management API (docs/examples/plan-small.json, a venue, an event on
 * sale), buys one seat as the dev user "alice", and writes the ticket with the cluster's public
 * keys in the shape `npx tessera ticket verify` reads ({about, ticket, keys}), and the keys alone to
 * docs/examples/ticket-keys.json (what `--keys` takes to authenticate it). The data folder and
 * with it every private key is deleted afterwards, so nobody can sign another ticket for it.
 * It also buys a second seat, has the theatre refund that order, and writes that ticket
 * (docs/examples/ticket-revoked.json) with the event's revocation feed that revokes it
 * (docs/examples/revocations.json).
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { issueLicense } from "../shared/auth/license.ts";
import { createTheaterToken } from "../shared/auth/theater-token.ts";
import { PROVIDERS, type ProviderId } from "../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../shared/crypto/keys.ts";
import { DOOR_SIGNATURES } from "../shared/tickets/compact.ts";
import { checkFeeds } from "../shared/tickets/revocation-feed.ts";
import type { Ticket } from "../shared/tickets/sign.ts";
import { verifyTicket } from "../shared/tickets/verify.ts";
import { startLocalCluster } from "./local/cluster.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(ROOT, "docs/examples/ticket.json");
/** The example cluster's published keys: what a verifier trusts, apart from the ticket file. */
const KEYS_OUT = join(ROOT, "docs/examples/ticket-keys.json");
const PLAN = join(ROOT, "docs/examples/plan-small.json");
const REVOKED_OUT = join(ROOT, "docs/examples/ticket-revoked.json");
const FEED_OUT = join(ROOT, "docs/examples/revocations.json");
const CLUSTER_ID = "tessera-example";
const THEATER = "thr-grand";
const DAY_MS = 86_400_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const dataDir = join(tmpdir(), `tessera-examples-${process.pid}`);
const ports = Object.fromEntries(
  await Promise.all(PROVIDERS.map(async (p) => [p, await freePort()] as const)),
) as Record<ProviderId, number>;
const cluster = await startLocalCluster({ dataDir, ports, clusterId: CLUSTER_ID });
try {
  const url = (p: ProviderId, path: string) => `${cluster.providers[p].url}${path}`;
  const theaterKey = await generateEd25519Jwk("grand");
  const license = await issueLicense({
    governanceKey: cluster.governanceKey,
    theaterId: THEATER,
    name: "Grand Theatre",
    theaterKey: publicOf(theaterKey),
    scopes: ["venues", "events", "orders", "sales"],
    clusterId: CLUSTER_ID,
    now: Date.now(),
    ttlS: 3600,
  });
  let keyNo = 0;
  async function call(
    p: ProviderId,
    method: string,
    path: string,
    o: { body?: unknown; theater?: boolean; buyer?: string } = {},
    // biome-ignore lint/suspicious/noExplicitAny: a script reading several response shapes
  ): Promise<any> {
    const headers: Record<string, string> = { "idempotency-key": `example-${++keyNo}` };
    if (o.body !== undefined) headers["content-type"] = "application/json";
    if (o.buyer) headers.authorization = `Bearer ${o.buyer}`;
    if (o.theater) {
      const token = await createTheaterToken({
        license,
        theaterKey,
        method,
        path,
        now: Date.now(),
      });
      headers.authorization = `Tessera-Theater ${token}`;
    }
    const r = await fetch(url(p, path), {
      method,
      headers,
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
    });
    const body = await r.json();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(body)}`);
    return body;
  }

  const { $schema: _s, id: _id, ...plan } = JSON.parse(await readFile(PLAN, "utf8"));
  const meta = await call("cloudflare", "POST", "/v1/manage/plans", {
    theater: true,
    body: { format: "tessera", plan },
  });
  const venue = await call("vercel", "POST", "/v1/manage/venues", {
    theater: true,
    body: {
      name: "Grand Theatre",
      address: "1 Example Square",
      timezone: "Europe/Vienna",
      planId: meta.id,
    },
  });
  const now = Date.now();
  const event = await call("aws", "POST", "/v1/manage/events", {
    theater: true,
    body: {
      title: "Die Zauberflöte",
      startsAt: new Date(now + 30 * DAY_MS).toISOString(),
      venueId: venue.id,
      planId: meta.id,
      priceCategories: meta.categories.map((c: { id: string }, i: number) => ({
        categoryId: c.id,
        price: { amount: 4500 - i * 1500, currency: "EUR" },
      })),
      salesWindow: {
        opensAt: new Date(now - DAY_MS).toISOString(),
        closesAt: new Date(now + 20 * DAY_MS).toISOString(),
      },
    },
  });
  await call("aws", "POST", `/v1/manage/events/${event.id}/open-sales`, { theater: true });

  const idp = await fetch(url("cloudflare", "/idp/token"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "alice" }),
  });
  const buyer = ((await idp.json()) as { access_token: string }).access_token;
  const hold = await call("vercel", "POST", `/v1/events/${event.id}/holds`, {
    buyer,
    body: { seats: [{ sectionId: "stalls", seatId: "stalls-a2" }] },
  });
  const bought = await call("cloudflare", "POST", `/v1/holds/${hold.holdId}/confirm`, {
    buyer,
    body: { card: { number: "4242424242424242", expMonth: 12, expYear: 2099, cvc: "123" } },
  });
  // The door form keeps a quorum of signatures (DOOR_SIGNATURES): the example shows the minimum
  // a valid ticket carries, so dropping any one signature makes it invalid.
  const full = bought.tickets[0].ticket as Ticket;
  const ticket: Ticket = { ...full, signatures: full.signatures.slice(0, DOOR_SIGNATURES) };
  const keys = await call("aws", "GET", "/v1/audit/keys");
  const check = await verifyTicket(ticket, keys);
  if (!check.valid) throw new Error(`the fresh ticket does not verify: ${JSON.stringify(check)}`);

  const doc = {
    about:
      "A real Tessera ticket, bought on a throwaway local cluster by scripts/examples.ts (its " +
      "private keys were deleted), with the two signatures a door needs. Verify: npx tessera ticket verify docs/examples/ticket.json --keys docs/examples/ticket-keys.json (the example cluster's published keys; without them the embedded keys only show the file is self-consistent, exit 3)",
    ticket,
    keys,
  };
  await writeFile(OUT, `${JSON.stringify(doc, null, 2)}\n`);
  await writeFile(KEYS_OUT, `${JSON.stringify(keys, null, 2)}\n`);

  // A second seat, bought and refunded: its ticket still carries genuine signatures, and the
  // event's feed revokes it.
  const hold2 = await call("aws", "POST", `/v1/events/${event.id}/holds`, {
    buyer,
    body: { seats: [{ sectionId: "stalls", seatId: "stalls-a3" }] },
  });
  const bought2 = await call("aws", "POST", `/v1/holds/${hold2.holdId}/confirm`, {
    buyer,
    body: { card: { number: "4242424242424242", expMonth: 12, expYear: 2099, cvc: "123" } },
  });
  await call("vercel", "POST", `/v1/manage/orders/${bought2.order.id}/refund`, { theater: true });
  const full2 = bought2.tickets[0].ticket as Ticket;
  const revoked: Ticket = { ...full2, signatures: full2.signatures.slice(0, DOOR_SIGNATURES) };
  const feed = await call("cloudflare", "GET", `/v1/events/${event.id}/revocations`);
  const feedCheck = await checkFeeds([feed], keys);
  if (!feedCheck.revoked.has(bought2.tickets[0].id)) throw new Error("the feed misses the refund");
  await writeFile(
    REVOKED_OUT,
    `${JSON.stringify(
      {
        about:
          "A real Tessera ticket whose order was refunded: its signatures still verify, and docs/examples/revocations.json (the event's feed) revokes it. Verify: npx tessera ticket verify docs/examples/ticket-revoked.json --keys docs/examples/ticket-keys.json --revocations docs/examples/revocations.json (exit 1, REVOKED)",
        ticket: revoked,
        keys,
      },
      null,
      2,
    )}\n`,
  );
  await writeFile(FEED_OUT, `${JSON.stringify(feed, null, 2)}\n`);
  console.log(
    `wrote ${OUT}: ticket ${check.claims.tid} for seat ${check.claims.seat.id}, signed by ${check.providers.join(", ")}`,
  );
} finally {
  await cluster.stop();
  await rm(dataDir, { recursive: true, force: true });
}
