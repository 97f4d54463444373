import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from "vitest";
import { CARD_OK, call, newKey } from "../functions/routes/buyer/helpers.ts";
import { type MemoryCluster, startSeededMemoryCluster } from "../support/memory-cluster.ts";
import type { Seeded } from "../support/seed.ts";

/**
 * Issue #11 item 8: hold and order ids were drawn from Math.random, a predictable generator (its
 * state can be recovered from a few outputs), so ids could be guessed. They now come from Web
 * Crypto: 96 random bits after the one-letter kind prefix.
 */

let mc: MemoryCluster;
let ev: Seeded;
let alice: string;
let random: MockInstance<() => number>;

beforeAll(async () => {
  // Spied before the cluster starts: services keep a reference to the generator they were given.
  random = vi.spyOn(Math, "random");
  ({ mc, ev } = await startSeededMemoryCluster());
  alice = await mc.tokenFor("alice");
});

afterAll(() => {
  random.mockRestore();
});

describe("hold and order ids", () => {
  it("never call Math.random while holding and buying seats", async () => {
    random.mockClear();
    const h = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      key: newKey(),
      body: { seats: [ev.seats[0]] },
    });
    expect(h.status).toBe(201);
    const c = await call(mc, "vercel", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
      token: alice,
      key: newKey(),
      body: { card: CARD_OK },
    });
    expect(c.status).toBe(201);
    expect(random).not.toHaveBeenCalled();
  });

  it("carry 96 random bits (16 base64url characters after the prefix), all distinct", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const h = await call(mc, "aws", "POST", `/v1/events/${ev.eventId}/holds`, {
        token: alice,
        key: newKey(),
        body: { seats: [ev.seats[1 + i]] },
      });
      expect(h.status).toBe(201);
      expect(h.body.holdId).toMatch(/^h[A-Za-z0-9_-]{16}$/);
      ids.add(h.body.holdId);
    }
    expect(ids.size).toBe(5);
  });
});
