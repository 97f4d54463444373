import { beforeAll, describe, expect, it } from "vitest";
import { generateEd25519Jwk } from "../../../../shared/crypto/keys.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import { CARD_OK, call } from "../buyer/helpers.ts";
import {
  DAY_MS,
  licensedTheater,
  manage,
  newKey,
  type TheaterCreds,
  theaterWithEvent,
  valuesOf,
} from "./helpers.ts";

let mc: MemoryCluster;
let odeon: TheaterCreds;
let rival: TheaterCreds;
let theirs: Awaited<ReturnType<typeof theaterWithEvent>> & { orderId: string };
const everyValue = () =>
  [mc.acceptors.cloudflare, mc.acceptors.vercel, mc.acceptors.aws].map(valuesOf);

beforeAll(async () => {
  mc = await startMemoryCluster();
  odeon = await licensedTheater(mc, "odeon");
  rival = await licensedTheater(mc, "rival");
  await theaterWithEvent(mc, odeon);
  const r = await theaterWithEvent(mc, rival);
  const alice = await mc.tokenFor("alice");
  const h = await call(mc, "cloudflare", "POST", `/v1/events/${r.eventId}/holds`, {
    token: alice,
    key: newKey(),
    body: { seats: [{ sectionId: "stalls", seatId: "stalls-a1" }] },
  });
  const c = await call(mc, "vercel", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
    token: alice,
    key: newKey(),
    body: { card: CARD_OK },
  });
  theirs = { ...r, orderId: c.body.order.id };
});

describe("a theatre cannot reach another theatre's records: 404, nothing changes", () => {
  const calls = (): [string, string, unknown?][] => [
    ["GET", `/v1/manage/plans/${theirs.planId}`],
    ["GET", `/v1/manage/venues/${theirs.venueId}`],
    ["PATCH", `/v1/manage/venues/${theirs.venueId}`, { name: "Mine now" }],
    ["GET", `/v1/manage/events/${theirs.eventId}`],
    ["PATCH", `/v1/manage/events/${theirs.eventId}`, { title: "Mine now" }],
    ["POST", `/v1/manage/events/${theirs.eventId}/close-sales`],
    ["POST", `/v1/manage/events/${theirs.eventId}/open-sales`],
    ["GET", `/v1/manage/events/${theirs.eventId}/orders`],
    ["GET", `/v1/manage/events/${theirs.eventId}/summary`],
    ["POST", `/v1/manage/orders/${theirs.orderId}/refund`],
  ];

  it("answers 404 to every call on another theatre's ids", async () => {
    const before = everyValue();
    for (const [method, path, body] of calls()) {
      const r = await manage(mc, "aws", odeon, method, path, {
        key: newKey(),
        ...(body ? { body } : {}),
      });
      expect([method, path, r.status]).toEqual([method, path, 404]);
      expect(r.headers.get("content-type")).toBe("application/problem+json");
    }
    expect(everyValue()).toEqual(before);
  });

  it("refuses references to another theatre's plan or venue inside a body (422)", async () => {
    const before = everyValue();
    const v = await manage(mc, "vercel", odeon, "POST", "/v1/manage/venues", {
      key: newKey(),
      body: { name: "Hall", address: "Wien", timezone: "Europe/Vienna", planId: theirs.planId },
    });
    expect(v.status).toBe(422);
    expect(everyValue()).toEqual(before);
  });

  it("lists only its own records", async () => {
    for (const path of ["/v1/manage/venues", "/v1/manage/events", "/v1/manage/plans"]) {
      const r = await manage(mc, "cloudflare", odeon, "GET", path);
      expect(r.body.items.length).toBe(1);
      for (const item of r.body.items) expect(item.theaterId).toBe("odeon");
    }
  });
});

describe("credentials", () => {
  const write = (t: TheaterCreds | undefined, headers: Record<string, string> = {}) =>
    manage(mc, "cloudflare", t, "PATCH", `/v1/manage/events/${theirs.eventId}`, {
      body: { title: "Hijacked" },
      headers,
    });

  it("no token: 401 with a Tessera-Theater challenge", async () => {
    const before = everyValue();
    const r = await write(undefined);
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^Tessera-Theater/);
    expect(everyValue()).toEqual(before);
  });

  it("an expired license: 401, nothing changes", async () => {
    const expired = await licensedTheater(mc, "rival", {
      issuedAtMs: mc.clock.ms - 10 * DAY_MS,
      ttlS: 24 * 3600,
    });
    const before = everyValue();
    const r = await write(expired);
    expect(r.status).toBe(401);
    expect(r.body.reason).toBe("expired");
    expect(everyValue()).toEqual(before);
  });

  it("a license signed by an unknown key: 401, nothing changes", async () => {
    const forged = await licensedTheater(mc, "rival", {
      governanceKey: await generateEd25519Jwk("not-governance"),
    });
    const before = everyValue();
    const r = await write(forged);
    expect(r.status).toBe(401);
    expect(r.body.reason).toBe("unknown-signer");
    expect(everyValue()).toEqual(before);
  });

  it("a license without the scope: 403, nothing changes", async () => {
    const venuesOnly = await licensedTheater(mc, "rival", { scopes: ["venues"] });
    const before = everyValue();
    const r = await write(venuesOnly);
    expect(r.status).toBe(403);
    expect(everyValue()).toEqual(before);
  });

  it("a token bound to another path: 401", async () => {
    const r = await manage(mc, "aws", rival, "GET", "/v1/manage/venues");
    expect(r.status).toBe(200);
    const { createTheaterToken } = await import("../../../../shared/auth/theater-token.ts");
    const token = await createTheaterToken({
      license: rival.license,
      theaterKey: rival.key,
      method: "GET",
      path: "/v1/manage/venues",
      now: mc.clock.ms,
    });
    const other = await mc.request("aws", "/v1/manage/events", {
      headers: { authorization: `Tessera-Theater ${token}` },
    });
    expect(other.status).toBe(401);
  });
});
