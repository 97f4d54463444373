import { beforeAll, describe, expect, it } from "vitest";
import { seatKey } from "../../../../shared/domain/keys.ts";
import { verifyBackup } from "../../../../shared/formats/verify-backup.ts";
import { encodeBallot } from "../../../../shared/quorum/ballot.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import { CARD_OK, call } from "../buyer/helpers.ts";
import { licensedTheater, newKey, type TheaterCreds, theaterWithEvent } from "./helpers.ts";

let mc: MemoryCluster;
let odeon: TheaterCreds;
let eventId: string;

/** Seats registers written straight into the AWS store (the one the backup calls read). */
const SEEDED_SEATS = 100_000;
const SEED_BATCH = 1000;

beforeAll(async () => {
  mc = await startMemoryCluster();
  odeon = await licensedTheater(mc, "odeon");
  ({ eventId } = await theaterWithEvent(mc, odeon));
  const alice = await mc.tokenFor("alice");
  const h = await call(mc, "aws", "POST", `/v1/events/${eventId}/holds`, {
    token: alice,
    key: newKey(),
    body: { seats: [{ sectionId: "stalls", seatId: "stalls-a1" }] },
  });
  const c = await call(mc, "vercel", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
    token: alice,
    key: newKey(),
    body: { card: CARD_OK },
  });
  expect(c.status).toBe(201);
});

async function download(path: string) {
  const token = await import("../../../../shared/auth/theater-token.ts").then((m) =>
    m.createTheaterToken({
      license: odeon.license,
      theaterKey: odeon.key,
      method: "GET",
      path,
      now: mc.clock.ms,
    }),
  );
  return await mc.request("aws", path, { headers: { authorization: `Tessera-Theater ${token}` } });
}

async function drain(r: Response) {
  return { text: await r.text() };
}

/**
 * Consumes a streamed body chunk by chunk WITHOUT keeping it (as a client writing to disk would),
 * counting chunks, bytes and `needle` occurrences, and sampling RSS after every chunk.
 */
async function consume(r: Response, needle: string) {
  const reader = r.body!.getReader();
  const dec = new TextDecoder();
  let chunks = 0;
  let bytes = 0;
  let hits = 0;
  let last = "";
  let peakRss = process.memoryUsage().rss;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks++;
    bytes += value.length;
    // The writer yields whole lines per chunk, so a needle never straddles two chunks.
    last = dec.decode(value);
    hits += last.split(needle).length - 1;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  return { chunks, bytes, hits, last, peakRss };
}

describe("GET /v1/manage/backup", () => {
  it("streams a backup that verifies, with the theatre's records", async () => {
    const r = await download("/v1/manage/backup");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.headers.get("content-disposition")).toMatch(
      /^attachment; filename="tessera-backup-odeon-/,
    );
    const { text } = await drain(r);
    const file = JSON.parse(text);
    const report = await verifyBackup(file);
    expect(report.issues).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.counts).toMatchObject({ venues: 1, seatingPlans: 1, events: 1, orders: 1 });
    expect(report.tickets.valid).toBe(report.tickets.checked);
    expect(file.seats).toContainEqual(
      expect.objectContaining({ eventId, seatId: "stalls-a1", state: "sold" }),
    );
  });

  it("stores a backup in the blob store and serves it back identically", async () => {
    const streamed = await drain(await download("/v1/manage/backup"));
    const r = await download("/v1/manage/backup?delivery=store");
    expect(r.status).toBe(201);
    const stored = (await r.json()) as { href: string; bytes: number; provider: string };
    expect(stored.provider).toBe("aws");
    const g = await download(stored.href);
    expect(g.status).toBe(200);
    const back = await drain(g);
    expect(back.text).toBe(streamed.text);
    expect(Buffer.byteLength(back.text)).toBe(stored.bytes);
    expect((await download("/v1/manage/backups/bk_nope")).status).toBe(404);
  });

  it(`streams a ${SEEDED_SEATS}-seat event page by page (peak RSS reported)`, {
    timeout: 180_000,
  }, async () => {
    const ballot = encodeBallot({ counter: 1, proposer: "seed" });
    for (let i = 0; i < SEEDED_SEATS; i += SEED_BATCH) {
      const entries = Array.from({ length: SEED_BATCH }, (_, j) => ({
        key: seatKey(eventId, "arena", `s${String(i + j).padStart(6, "0")}`),
        ballot,
        value: JSON.stringify(
          (i + j) % 3 === 0
            ? { state: "sold", orderId: "o_seeded", holdId: "h_seeded" }
            : { state: "free" },
        ),
      }));
      await mc.acceptors.aws.accept(entries);
    }
    const before = process.memoryUsage().rss;
    const r = await download("/v1/manage/backup");
    expect(r.status).toBe(200);
    const { chunks, bytes, hits, last, peakRss } = await consume(r, '"seatId":"s0');
    // Delivered as many chunks (one per scan page), not one buffered body, and complete.
    expect(chunks).toBeGreaterThan(SEEDED_SEATS / 1000);
    expect(hits).toBe(SEEDED_SEATS);
    expect(last).toMatch(/"checksums":\{.*\}\}\n$/);
    console.log(
      `backup of ${SEEDED_SEATS} seats: ${(bytes / 1e6).toFixed(1)} MB in ${chunks} chunks; ` +
        `RSS before ${(before / 2 ** 20).toFixed(0)} MiB, peak while streaming ` +
        `${(peakRss / 2 ** 20).toFixed(0)} MiB (+${((peakRss - before) / 2 ** 20).toFixed(1)} MiB)`,
    );
  });
});
