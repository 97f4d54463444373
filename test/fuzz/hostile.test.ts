import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PROVIDERS } from "../../shared/config.ts";
import { startMemoryCluster } from "../support/memory-cluster.ts";

/**
 * Hostile clients (issue #11 items 5 and 6), as properties: whatever X-Forwarded-For and
 * Authorization garbage a client sends, its platform-reported address gets no more than its
 * budget; and a body over a route's limit, with or without Content-Length, is a 413 (or the 401
 * of a route that reads its body only after authentication), never a 5xx, never a write.
 */

const BUDGET = 20;
const SEED = 20_261_126;
const mc = await startMemoryCluster({
  clusterId: "fuzz-hostile",
  rateLimits: { address: { limit: BUDGET, windowS: 60 } },
});

const ROUTES = [
  ["GET", "/v1/events"],
  ["GET", "/v1/me/orders"],
  ["GET", "/v1/manage/events"],
  ["POST", "/idp/token"],
  ["GET", "/health"],
  ["GET", "/v1/no-such-route"],
] as const;

const ipv4 = fc.ipV4();
const garbageAuth = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 40 }).map((s) => `Basic ${btoa(unescape(encodeURIComponent(s)))}`),
  fc
    .string({ minLength: 1, maxLength: 80 })
    .map((s) => `Bearer ${s.replace(/[^\x21-\x7e]/g, "x")}`),
  fc.string({ maxLength: 60 }).map((s) => `Tessera-Theater ${s.replace(/[^\x21-\x7e]/g, "y")}`),
  fc.constantFrom("Bearer", "Negotiate abc", "x"),
);
const hostileHeaders = fc.record({
  xff: fc.array(ipv4, { minLength: 1, maxLength: 4 }).map((a) => a.join(", ")),
  realIp: ipv4,
  auth: garbageAuth,
});

let addressNo = 0;
/** A client address never used before in this file, so every run starts with a full budget. */
const freshAddress = () => {
  addressNo++;
  return `10.${(addressNo >> 16) & 255}.${(addressNo >> 8) & 255}.${addressNo & 255}`;
};

describe("hostile headers do not widen a client's budget", () => {
  it("rotating X-Forwarded-For / X-Real-IP / CF-Connecting-IP and garbage credentials", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom(...ROUTES), hostileHeaders), {
          minLength: BUDGET + 5,
          maxLength: BUDGET + 10,
        }),
        fc.constantFrom(...PROVIDERS),
        async (calls, provider) => {
          const from = freshAddress();
          let admitted = 0;
          for (const [[method, path], h] of calls) {
            const headers: Record<string, string> = {
              "x-forwarded-for": h.xff,
              "x-real-ip": h.realIp,
              "cf-connecting-ip": h.realIp,
              "content-type": "application/json",
            };
            if (h.auth !== undefined) headers.authorization = h.auth;
            const r = await mc.request(
              provider,
              path,
              { method, headers, ...(method === "POST" ? { body: '{"username":"eve"}' } : {}) },
              from,
            );
            const text = await r.text();
            expect(r.status, text).toBeLessThan(500);
            if (r.status === 429) {
              expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
              expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
            } else admitted++;
          }
          expect(admitted).toBeLessThanOrEqual(BUDGET);
        },
      ),
      { numRuns: 15, seed: SEED },
    );
  }, 60_000);
});

const BODY_ROUTES = [
  ["POST", "/v1/events/ev-x/holds", 64 * 1024],
  ["POST", "/v1/holds/h-x/confirm", 64 * 1024],
  ["POST", "/v1/door/verify", 64 * 1024],
  ["POST", "/v1/manage/venues", 64 * 1024],
  ["POST", "/idp/token", 64 * 1024],
  ["POST", "/v1/manage/events", 1024 * 1024],
  ["PATCH", "/v1/manage/events/ev-x", 1024 * 1024],
  ["POST", "/v1/manage/import", 4 * 1024 * 1024],
  ["POST", "/v1/me/tickets/import", 1024 * 1024],
  ["POST", "/internal/acceptor/accept", 4 * 1024 * 1024],
  ["POST", "/internal/ticket-sign", 64 * 1024],
] as const;

/** A body of `n` bytes, as a stream (no Content-Length) or as bytes (length declared). */
function bodyOf(n: number, declared: boolean): RequestInit {
  if (declared) return { body: new Uint8Array(n).fill(0x7b) };
  let left = n;
  const body = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (left <= 0) return ctrl.close();
      const k = Math.min(64 * 1024, left);
      left -= k;
      ctrl.enqueue(new Uint8Array(k).fill(0x7b));
    },
  });
  return { body, duplex: "half" } as RequestInit;
}

describe("huge bodies", () => {
  it("over any route's limit, with or without Content-Length: 413 or 401, problem+json, no write", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BODY_ROUTES),
        fc.integer({ min: 1, max: 512 * 1024 }),
        fc.boolean(),
        fc.constantFrom(...PROVIDERS),
        async ([method, path, max], extra, declared, provider) => {
          const before = [...mc.acceptors[provider].records.keys()].length;
          const r = await mc.request(
            provider,
            path,
            {
              method,
              headers: { "content-type": "application/json" },
              ...bodyOf(max + extra, declared),
            },
            freshAddress(),
          );
          const text = await r.text();
          expect([401, 413], `${method} ${path} → ${r.status} ${text.slice(0, 200)}`).toContain(
            r.status,
          );
          expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
          expect(JSON.parse(text).status).toBe(r.status);
          expect([...mc.acceptors[provider].records.keys()].length).toBe(before);
        },
      ),
      { numRuns: 40, seed: SEED },
    );
  }, 120_000);
});
