import { createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestCluster, type TestCluster } from "../../scripts/local/throwaway-cluster.ts";
import { BackupFile, BackupWriteError, writeBackup } from "../../shared/formats/backup.ts";
import { formatSchemas } from "../../shared/formats/schemas.ts";
import { verifyBackup } from "../../shared/formats/verify-backup.ts";
import { collect, makeSource, signedTickets } from "./fixtures.ts";

let tc: TestCluster;
let dir: string;
beforeAll(async () => {
  tc = await makeTestCluster({}, "test-cluster");
  dir = await mkdtemp(join(tmpdir(), "tessera-backup-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const codes = (r: { issues: { code: string }[] }) => r.issues.map((i) => i.code);

describe("theater backup", () => {
  it("round-trips: written text parses, matches the schema and verifies", async () => {
    const tickets = await signedTickets(tc, 5, 10);
    const checkIns = [
      {
        eventId: "evt_1",
        seatId: "S000000",
        ticketId: "tkt_0",
        orderId: "ord_0",
        at: "2026-03-01T19:00:00Z",
      },
    ];
    const text = await collect(
      writeBackup(makeSource(tc, { seats: 100, soldEvery: 10, tickets, checkIns })),
    );
    const parsed = JSON.parse(text);
    expect(BackupFile.safeParse(parsed).success).toBe(true);
    expect(Object.keys(parsed)[0]).toBe("format");
    const r = await verifyBackup(parsed);
    expect(r.issues).toEqual([]);
    expect(r).toMatchObject({
      ok: true,
      keysSource: "self-supplied",
      tickets: { checked: 5, valid: 5 },
    });
    expect(r.counts).toEqual({
      venues: 1,
      seatingPlans: 1,
      events: 1,
      seats: 100,
      orders: 10,
      tickets: 5,
      checkIns: 1,
      revocations: 0,
    });
    // Re-formatting the file does not change the checksums (they hash canonical lines).
    expect((await verifyBackup(JSON.parse(JSON.stringify(parsed, null, 4)))).ok).toBe(true);
    expect((await verifyBackup(parsed, { trusted: tc.cluster })).ok).toBe(true);
  });

  it("the emitted JSON Schema accepts a written backup and rejects a broken one (ajv)", async () => {
    const text = await collect(
      writeBackup(
        makeSource(tc, { seats: 20, soldEvery: 5, tickets: await signedTickets(tc, 2, 5) }),
      ),
    );
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(formatSchemas()["backup.schema.json"]!);
    const parsed = JSON.parse(text);
    expect(validate(parsed), JSON.stringify(validate.errors)).toBe(true);
    parsed.seats[0].state = "sold";
    delete parsed.seats[0].orderId;
    expect(validate(parsed)).toBe(false);
  });

  it("reports every failure: checksum, schema, forged ticket, unbacked ticket", async () => {
    const tickets = await signedTickets(tc, 4, 10);
    const parsed = JSON.parse(
      await collect(writeBackup(makeSource(tc, { seats: 50, soldEvery: 10, tickets }))),
    );
    parsed.seats[3].state = "held"; // checksum of seats
    parsed.orders[1].theaterId = 42; // schema (and checksum of orders)
    parsed.tickets[0].signatures = parsed.tickets[0].signatures.slice(0, 1); // too few (checksum)
    parsed.seats[20] = { eventId: "evt_1", seatId: "S000020", state: "available" }; // ticket 2 unbacked
    const r = await verifyBackup(parsed);
    expect(r.ok).toBe(false);
    expect(r.issues.filter((i) => i.code === "checksum").map((i) => i.path)).toEqual([
      "$.checksums.seats",
      "$.checksums.orders",
      "$.checksums.tickets",
    ]);
    expect(r.issues).toContainEqual(
      expect.objectContaining({ code: "schema", path: "$.orders[1].theaterId" }),
    );
    expect(r.issues).toContainEqual(
      expect.objectContaining({ code: "ticket", path: "$.tickets[0]" }),
    );
    expect(r.issues).toContainEqual(
      expect.objectContaining({ code: "reference", path: "$.tickets[2]" }),
    );
    expect(r.tickets).toEqual({ checked: 4, valid: 3, invalid: 1 });
  });

  it("flags keys that differ from the trusted ones, and non-backups", async () => {
    const parsed = JSON.parse(
      await collect(
        writeBackup(
          makeSource(tc, { seats: 10, soldEvery: 5, tickets: await signedTickets(tc, 1, 5) }),
        ),
      ),
    );
    const other = await makeTestCluster({}, "test-cluster");
    const r = await verifyBackup(parsed, { trusted: other.cluster });
    expect(codes(r)).toEqual(["keys-mismatch", "ticket"]);
    expect(codes(await verifyBackup({ format: "tessera.tickets" }))).toEqual(["format"]);
    expect(codes(await verifyBackup([]))).toEqual(["format"]);
  });

  it("checks check-ins: a known event and order, one per seat", async () => {
    const at = "2026-03-01T19:00:00Z";
    const checkIns = [
      { eventId: "evt_1", seatId: "S000000", ticketId: "tkt_0", orderId: "ord_0", at },
      { eventId: "evt_1", seatId: "S000000", ticketId: "tkt_x", orderId: "ord_0", at },
      { eventId: "evt_9", seatId: "S000001", ticketId: "tkt_1", orderId: "ord_0", at },
      { eventId: "evt_1", seatId: "S000002", ticketId: "tkt_2", orderId: "ord_9", at },
    ];
    const parsed = JSON.parse(
      await collect(
        writeBackup(makeSource(tc, { seats: 10, soldEvery: 5, tickets: [], checkIns })),
      ),
    );
    const r = await verifyBackup(parsed);
    expect(r.issues.map((i) => [i.code, i.path])).toEqual([
      ["reference", "$.checkIns[1]"],
      ["reference", "$.checkIns[2]"],
      ["reference", "$.checkIns[3]"],
    ]);
  });

  it("reads version 1 files, which have no check-ins", async () => {
    const parsed = JSON.parse(
      await collect(writeBackup(makeSource(tc, { seats: 10, soldEvery: 5, tickets: [] }))),
    );
    const { checkIns: _c, revocations: _r, checksums, ...rest } = parsed;
    const { checkIns: _s, revocations: _rs, ...v1Sums } = checksums;
    const v1 = { ...rest, formatVersion: 1, checksums: v1Sums };
    expect((await verifyBackup(v1)).issues).toEqual([]);
    // Version 3 without check-ins, or version 1 with them, is not a backup of either version.
    expect(codes(await verifyBackup({ ...parsed, formatVersion: 1 }))).toContain("schema");
    expect(codes(await verifyBackup({ ...v1, formatVersion: 3 }))).toContain("schema");
  });

  it("reads version 2 files, which have no revocations", async () => {
    const parsed = JSON.parse(
      await collect(writeBackup(makeSource(tc, { seats: 10, soldEvery: 5, tickets: [] }))),
    );
    const { revocations: _r, checksums, ...rest } = parsed;
    const { revocations: _rs, ...v2Sums } = checksums;
    const v2 = { ...rest, formatVersion: 2, checksums: v2Sums };
    expect((await verifyBackup(v2)).issues).toEqual([]);
    expect(codes(await verifyBackup({ ...v2, formatVersion: 3 }))).toContain("schema");
  });

  it("refuses to write an invalid record", async () => {
    const src = makeSource(tc, { seats: 3, soldEvery: 2, tickets: [] });
    src.events = [[{ id: "evt_1" } as never]];
    await expect(collect(writeBackup(src))).rejects.toThrow(BackupWriteError);
  });

  it("streams 100,000 seats to a file with bounded memory", async () => {
    const SEATS = 100_000;
    const SOLD_EVERY = 100;
    const tickets = await signedTickets(tc, 200, SOLD_EVERY);
    const path = join(dir, "big.json");
    const before = process.memoryUsage().rss;
    let peak = before;
    let chunks = 0;
    async function* sampled() {
      for await (const c of writeBackup(
        makeSource(tc, { seats: SEATS, soldEvery: SOLD_EVERY, tickets }),
      )) {
        chunks++;
        peak = Math.max(peak, process.memoryUsage().rss);
        yield c;
      }
    }
    await pipeline(Readable.from(sampled()), createWriteStream(path));
    const size = (await stat(path)).size;
    const growthMb = (peak - before) / 2 ** 20;
    console.info(
      `100k-seat backup: ${(size / 2 ** 20).toFixed(1)} MiB in ${chunks} chunks; peak RSS growth while writing ${growthMb.toFixed(1)} MiB`,
    );
    // Loose bound (GC timing varies); the point is that growth does not scale with the file.
    expect(growthMb).toBeLessThan(Math.max(64, (3 * size) / 2 ** 20));

    const parsed = JSON.parse(await readFile(path, "utf8"));
    expect(parsed.seats).toHaveLength(SEATS);
    const r = await verifyBackup(parsed);
    expect(r.issues).toEqual([]);
    expect(r.tickets.valid).toBe(200);
  });
});
