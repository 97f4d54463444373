import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../shared/config.ts";
import { parseIdempotencyKey, parseSfString } from "../../shared/domain/idempotency-key.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";
import { directStore, type Seeded, seedEvent } from "../support/seed.ts";
import { nastyIdempotencyKeys } from "./nasty.ts";

/**
 * Idempotency-Key is an RFC 8941 sf-string (`"key"`) or the same key bare (issue #11 item 9).
 * Properties: the parser agrees with an independent oracle on every input, both forms of a key
 * name the same key, any string survives an sf-string round trip, and over HTTP every hostile form
 * is a 400 problem that writes nothing.
 */

const SEED = 20_261_126;
const KEY_CHARS = [..."ABCXYZabcxyz0189_.:-"];
const validKey = fc.string({ unit: fc.constantFrom(...KEY_CHARS), minLength: 1, maxLength: 64 });
/** The accepted forms, written independently of the parser. */
const oracle = (v: string) => /^ *(?:"[A-Za-z0-9_.:-]{1,64}"|[A-Za-z0-9_.:-]{1,64}) *$/.test(v);
const serialize = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 80,
});

describe("parseIdempotencyKey (pure)", () => {
  it("accepts exactly what the oracle accepts, for hostile and arbitrary values", () => {
    fc.assert(
      fc.property(
        fc.oneof(nastyIdempotencyKeys, printable, fc.string({ unit: "binary", maxLength: 80 })),
        (v) => {
          expect(parseIdempotencyKey(v).ok, JSON.stringify(v)).toBe(oracle(v));
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it("names one key for the quoted and the bare form", () => {
    fc.assert(
      fc.property(validKey, (k) => {
        expect(parseIdempotencyKey(`"${k}"`)).toEqual({ ok: true, key: k });
        expect(parseIdempotencyKey(k)).toEqual({ ok: true, key: k });
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it("round-trips any printable string through sf-string serialisation", () => {
    fc.assert(
      fc.property(printable, (s) => {
        expect(parseSfString(serialize(s))).toEqual({ ok: true, key: s });
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

describe("Idempotency-Key over HTTP", () => {
  let mc: MemoryCluster;
  let ev: Seeded;
  let token: string;
  const values = () => {
    const out = new Map<string, string | null>();
    for (const p of PROVIDERS) {
      for (const [k, r] of mc.acceptors[p].records) out.set(`${p}:${k}`, r.value);
    }
    return out;
  };

  beforeAll(async () => {
    mc = await startMemoryCluster({ clusterId: "fuzz-idem" });
    ev = await seedEvent(
      directStore(mc.acceptors, () => mc.clock.ms),
      { nowMs: mc.clock.ms },
    );
    token = await mc.tokenFor("alice");
  });

  it("refuses every hostile form with a 400 problem naming the header, writing nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        nastyIdempotencyKeys.filter((v) => !oracle(v)),
        fc.constantFrom(...PROVIDERS),
        async (key, p) => {
          const before = values();
          const r = await mc.request(p, `/v1/events/${ev.eventId}/holds`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${token}`,
              "content-type": "application/json",
              "idempotency-key": key,
            },
            body: JSON.stringify({ seats: [ev.seats[0]] }),
          });
          const text = await r.text();
          expect(r.status, `${key} → ${text}`).toBe(400);
          expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
          expect(text).toContain("idempotency-key");
          expect(values()).toEqual(before);
        },
      ),
      { seed: SEED, numRuns: 60 },
    );
  });
});
