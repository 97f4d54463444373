import { beforeAll, describe, expect, it } from "vitest";
import { buySeats, CARD_OK, call, newKey } from "../functions/routes/buyer/helpers.ts";
import { type MemoryCluster, startSeededMemoryCluster } from "../support/memory-cluster.ts";
import type { Seeded } from "../support/seed.ts";

/**
 * Threat: a buyer probes hold ids to learn which exist and which were bought. Every answer about
 * someone else's hold, whatever its state, must look like a hold that does not exist (404).
 */
let mc: MemoryCluster;
let ev: Seeded;
let alice: string;
let bob: string;
let soldHold: string;

beforeAll(async () => {
  ({ mc, ev } = await startSeededMemoryCluster());
  alice = await mc.tokenFor("alice");
  bob = await mc.tokenFor("bob");
  ({ holdId: soldHold } = await buySeats(mc, alice, ev.eventId, [ev.seats[3]], {
    hold: "aws",
    confirm: "aws",
  }));
});

describe("another buyer's sold hold", () => {
  it("is a 404 to read, release or confirm, like one that never existed", async () => {
    for (const p of ["cloudflare", "vercel", "aws"] as const) {
      const read = await call(mc, p, "GET", `/v1/holds/${soldHold}`, { token: bob });
      expect(read.status, `GET on ${p}`).toBe(404);
      const release = await call(mc, p, "DELETE", `/v1/holds/${soldHold}`, { token: bob });
      expect(release.status, `DELETE on ${p}`).toBe(404);
      const confirm = await call(mc, p, "POST", `/v1/holds/${soldHold}/confirm`, {
        token: bob,
        key: newKey(),
        body: { card: CARD_OK },
      });
      expect(confirm.status, `confirm on ${p}`).toBe(404);
    }
  });

  it("its owner still learns that it is sold (409)", async () => {
    const release = await call(mc, "vercel", "DELETE", `/v1/holds/${soldHold}`, { token: alice });
    expect(release.status).toBe(409);
  });
});
