import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.ts";
import { makeTestCluster } from "../../scripts/local/throwaway-cluster.ts";
import { MemoryAcceptor, MemoryBlobs } from "../../shared/storage/memory.ts";
import { CARD_OK, call, newKey } from "../functions/routes/buyer/helpers.ts";
import { type MemoryCluster, startSeededMemoryCluster } from "../support/memory-cluster.ts";
import type { Seeded } from "../support/seed.ts";

/**
 * Threat: an anonymous caller learns the platform's internals (store hosts, driver errors, peer
 * URLs, stack fragments) from error answers. Such text is logged with the request id; the caller
 * gets a generic explanation and the id to quote.
 */

const INTERNAL = "redis://10.9.8.7:6379 (internal-host-name)";

let mc: MemoryCluster;
let ev: Seeded;
let alice: string;
beforeAll(async () => {
  ({ mc, ev } = await startSeededMemoryCluster());
  alice = await mc.tokenFor("alice");
});

describe("error answers do not carry internal error text", () => {
  it("/health names a failed store and unreachable peers without their errors", async () => {
    const tc = await makeTestCluster();
    const broken = new MemoryAcceptor();
    broken.ping = async () => {
      throw new Error(`connect ECONNREFUSED ${INTERNAL}`);
    };
    const app = createApp({
      provider: "aws",
      cluster: tc.cluster,
      signingKey: tc.keys.aws,
      settings: tc.settingsFor("aws"),
      acceptor: broken,
      blobs: new MemoryBlobs(),
      storeName: "memory",
      fetch: (async () => {
        throw new TypeError(`fetch failed: getaddrinfo ENOTFOUND ${INTERNAL}`);
      }) as typeof fetch,
    });
    const r = await app.request("http://aws.test/health");
    expect(r.status).toBe(503);
    const text = await r.text();
    expect(text).not.toContain("internal-host-name");
    expect(text).not.toMatch(/ECONNREFUSED|ENOTFOUND/);
    expect(JSON.parse(text)).toMatchObject({ store: { ok: false }, quorum: { available: false } });
  });

  it("a 503 for a short quorum says so without the peers' error text", async () => {
    mc.cut("aws");
    mc.cut("vercel");
    try {
      const r = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
        token: alice,
        key: newKey(),
        body: { seats: [ev.seats[5]] },
      });
      expect(r.status).toBe(503);
      expect(JSON.stringify(r.body)).not.toContain("memory cluster");
      expect(JSON.stringify(r.body)).not.toContain("is cut");
      expect(r.body.requestId).toEqual(expect.any(String));
    } finally {
      mc.heal("aws");
      mc.heal("vercel");
    }
  });

  it("a 503 for tickets still pending names no peer's error text", async () => {
    const h = await call(mc, "cloudflare", "POST", `/v1/events/${ev.eventId}/holds`, {
      token: alice,
      key: newKey(),
      body: { seats: [ev.seats[6]] },
    });
    mc.cutPath("/internal/tickets/sign");
    try {
      const c = await call(mc, "cloudflare", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
        token: alice,
        key: newKey(),
        body: { card: CARD_OK },
      });
      // The confirm's tickets come from its accept replies; a re-issue asks the cut endpoint.
      expect(c.status).toBe(201);
      const r = await call(mc, "vercel", "POST", `/v1/me/orders/${c.body.order.id}/tickets`, {
        token: alice,
      });
      expect(r.status).toBe(503);
      expect(JSON.stringify(r.body)).not.toContain("memory cluster");
      expect(JSON.stringify(r.body)).not.toContain("is cut");
    } finally {
      mc.healPath("/internal/tickets/sign");
    }
  });
});
