import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { verifyTicket } from "../../shared/tickets/verify.ts";
import { startTestCluster } from "../support/local-cluster.ts";
import { remoteStore, type Seeded, seedEvent } from "../support/seed.ts";

let cluster: Awaited<ReturnType<typeof startTestCluster>>;
let ev: Seeded;
const tokens: Record<string, string> = {};

const url = (p: ProviderId, path: string) => `${cluster.providers[p].url}${path}`;
let keyNo = 0;
const newKey = () => `race-${Date.now().toString(36)}-${++keyNo}`;

async function post(p: ProviderId, path: string, user: string, body: unknown, key = newKey()) {
  const r = await fetch(url(p, path), {
    method: "POST",
    headers: {
      authorization: `Bearer ${tokens[user]}`,
      "idempotency-key": key,
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the test reads several response shapes
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}

beforeAll(async () => {
  cluster = await startTestCluster("test-purchase");
  ev = await seedEvent(remoteStore(cluster), { nowMs: Date.now() });
  for (const u of ["alice", "bob", "carol"]) {
    const r = await fetch(url("cloudflare", "/idp/token"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: u }),
    });
    tokens[u] = ((await r.json()) as { access_token: string }).access_token;
  }
}, 120_000);
afterAll(async () => {
  await cluster?.dispose();
});

describe("buying on the real three-provider cluster", () => {
  it("buyers racing for the same seats through different providers: one wins each seat", async () => {
    const [s0, s1, s2] = ev.seats;
    const racers = [
      { user: "alice", via: "cloudflare" as const, seats: [s0, s1] },
      { user: "bob", via: "vercel" as const, seats: [s1, s2] },
      { user: "carol", via: "aws" as const, seats: [s1] },
    ];
    const results = await Promise.all(
      racers.map((r) => post(r.via, `/v1/events/${ev.eventId}/holds`, r.user, { seats: r.seats })),
    );
    // A loser is told "taken" (409); nobody gets a 5xx for losing a race.
    for (const r of results) expect([201, 409]).toContain(r.status);
    const winners = results.flatMap((r, i) => (r.status === 201 ? [racers[i]!] : []));
    const holders = new Map<string, string>();
    for (const w of winners) {
      for (const s of w.seats) {
        expect(holders.has(s!.seatId)).toBe(false);
        holders.set(s!.seatId, w.user);
      }
    }
    // s1 is wanted by all three: exactly one of them holds it.
    expect(holders.has(s1!.seatId)).toBe(true);
    expect(winners).toHaveLength(1);

    // The winner pays (through yet another provider) and gets tickets vouched for by ≥ 2 providers.
    const w = winners[0]!;
    const hold = results[racers.indexOf(w)]!.body;
    const via = PROVIDERS.find((p) => p !== w.via)!;
    const card = { number: "4242424242424242", expMonth: 12, expYear: 2099, cvc: "123" };
    const c = await post(via, `/v1/holds/${hold.holdId}/confirm`, w.user, { card });
    expect(c.status).toBe(201);
    expect(c.body.order.status).toBe("confirmed");
    expect(c.body.tickets).toHaveLength(w.seats.length);
    for (const t of c.body.tickets) {
      const v = await verifyTicket(t.ticket, cluster.cluster);
      expect(v.valid).toBe(true);
      if (v.valid) expect(v.providers.length).toBeGreaterThanOrEqual(2);
    }

    // The losers can now hold what is left, and nobody can take the sold seats.
    const again = await post("aws", `/v1/events/${ev.eventId}/holds`, "carol", { seats: [s1] });
    expect(again.status).toBe(409);
  });
});
