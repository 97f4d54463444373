import { describe, expect, it } from "vitest";
import { primeChosenClient, unprovenClient } from "../../scripts/sim/seat-faults.ts";
import { holdKey } from "../../shared/domain/keys.ts";
import { PromiseCache } from "../../shared/quorum/cache.ts";
import { QuorumClient } from "../../shared/quorum/client.ts";
import type { AcceptEntry } from "../../shared/quorum/messages.ts";
import { SeatService } from "../../shared/seats/service.ts";
import type { HoldRecord, SeatValue } from "../../shared/seats/types.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { downStore } from "../support/broken-stores.ts";

/**
 * The race decision 0007 guards against, step by step: a hold whose one change landed on a single
 * store (its coordinator died), a confirm of its leaked id, and a rival hold that prepares the
 * seat on the two other stores between the confirm's read and its write. The confirm's record
 * write lands (nobody else touches that key) while its seat write is refused, so only a confirm
 * that sells on seats it proved chosen keeps the seat from being sold twice.
 */
function race() {
  const [a, b, c] = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
  const now = () => 1_000_000;
  // Ballots come from a clock: one that moves keeps later coordinators' ballots higher, as in life.
  let tick = 0;
  const ballotClock = () => 1_000_000 + 10 * tick++;
  let n = 0;
  const service = (stores: AcceptorPort[], wrap = (q: QuorumClient, _cache: PromiseCache) => q) => {
    const cache = new PromiseCache();
    const q = new QuorumClient({
      cache,
      acceptors: stores,
      proposerId: `p${n++}`,
      now: ballotClock,
      random: () => 0.5,
      sleep: async () => {},
      timeoutMs: 20,
    });
    return new SeatService(wrap(q, cache), {
      now,
      randomBytes: (k) => new Uint8Array(k).fill(n),
    });
  };
  /** Runs `before` once, ahead of the first accept that writes `key` sold (the sale, not a
   * write-back), on each store it wraps. */
  let gate: Promise<void> | null = null;
  const gated = (store: AcceptorPort, key: () => string | null, before: () => Promise<void>) =>
    ({
      ...store,
      prepare: (r) => store.prepare(r),
      read: (k) => store.read(k),
      scan: (p, o) => store.scan(p, o),
      deleteIf: (e) => store.deleteIf(e),
      ping: () => store.ping(),
      accept: async (entries: readonly AcceptEntry[]) => {
        const k = key();
        if (k !== null && entries.some((e) => e.key === k && e.value?.includes('"sold"'))) {
          gate ??= before();
          await gate;
        }
        return store.accept(entries);
      },
    }) satisfies AcceptorPort;
  return { a, b, c, service, gated };
}

const req = { eventId: "ev", seats: [{ section: "A", seatId: "1" }] };

/** How the leaked id's confirm runs: as before; primed on the record's keys (as a purchase primes
 * them while the card is authorised); or one of the two broken controls. */
type Mode = "plain" | "primed" | "unproven" | "prime-chosen";

async function run(mode: Mode) {
  const w = race();
  // 1. The hold's change reaches store a alone: its claim, record and seat lock sit there unchosen.
  const lone = await w
    .service([w.a, new MemoryAcceptor(), new MemoryAcceptor()])
    .hold("u1", "k1", req);
  if (!lone.ok) throw new Error(lone.code);
  const holdId = lone.value.holdId;
  // 3. (run at the confirm's first write) a rival reaches only b and c: the seat looks free there.
  let rival: Awaited<ReturnType<SeatService["hold"]>> | null = null;
  const rivalBuys = async () => {
    const s = w.service([w.b, w.c, downStore]);
    rival = await s.hold("u2", "k2", req);
    if (rival.ok) await s.confirm("u2", "c2", { holdId: rival.value.holdId });
  };
  // 2. The leaked id's confirm reads a and b, then writes: the rival acts between the two.
  const key = () => holdKey(holdId);
  const confirmer = w.service(
    [w.a, w.gated(w.b, key, rivalBuys), w.gated(w.c, key, rivalBuys)],
    mode === "unproven" ? unprovenClient : mode === "prime-chosen" ? primeChosenClient : undefined,
  );
  // Its keys leak with it (as the record on store a lists them), so no read of the record first.
  const record0 = { seats: ["seat/ev/A/1"], claimKey: "idem/u1/k1" };
  if (mode === "primed" || mode === "prime-chosen") {
    await confirmer.primeConfirm("u1", "c1", holdId);
    await confirmer.primeConfirm("u1", "c1", holdId, record0);
  }
  const confirm = await confirmer.confirm("u1", "c1", { holdId, record: record0 });
  // What the stores agree on afterwards, read by a fresh coordinator over all three.
  const reader = new QuorumClient({
    acceptors: [w.a, w.b, w.c],
    proposerId: "reader",
    now: () => 1_000_000,
    random: () => 0.5,
    sleep: async () => {},
    timeoutMs: 20,
  });
  const got = await reader.get<HoldRecord | SeatValue>([holdKey(holdId), "seat/ev/A/1"], {
    consistency: "quorum",
  });
  if (got.status !== "ok") throw new Error(got.status);
  const [record, seatNow] = got.values as [HoldRecord | null, SeatValue | null];
  return { holdId, confirm, rival, record, seatNow };
}

describe("a confirm of a hold whose change landed on one store", () => {
  it("never sells a seat a rival can take: the lock is proven chosen first", async () => {
    const { holdId, record, seatNow, rival } = await run("plain");
    // The "unproven" abort wrote the lock back through a quorum before the sale: the rival, which
    // came in between, found the seat held, and the sale's seat is its own.
    expect(rival).toMatchObject({ ok: false, code: "taken" });
    expect(record?.state).toBe("sold");
    expect(seatNow).toMatchObject({ holdId });
  });

  it("sells the seat twice when a confirm trusts a lock read off one store (the control)", async () => {
    const { holdId, record, seatNow, rival } = await run("unproven");
    expect(rival).toMatchObject({ ok: true });
    expect(record?.state).toBe("sold");
    expect(seatNow).not.toMatchObject({ holdId });
  });

  it("primed on the record's keys (its prepare run ahead), still sells only on a proven lock", async () => {
    const { holdId, record, seatNow, rival } = await run("primed");
    expect(rival).toMatchObject({ ok: false, code: "taken" });
    expect(record?.state).toBe("sold");
    expect(seatNow).toMatchObject({ holdId });
  });

  it("sells the seat twice when a prime hands the lone lock over as chosen (the control)", async () => {
    const { holdId, record, seatNow, rival } = await run("prime-chosen");
    expect(rival).toMatchObject({ ok: true });
    expect(record?.state).toBe("sold");
    expect(seatNow).not.toMatchObject({ holdId });
  });
});
