import { describe, expect, it } from "vitest";
import { idemKey } from "../../shared/domain/keys.ts";
import { QuorumClient } from "../../shared/quorum/client.ts";
import { HOLD_TTL_MS, RECORD_RETENTION_MS, SKEW_MARGIN_MS } from "../../shared/seats/changes.ts";
import { SeatService } from "../../shared/seats/service.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";

/**
 * What the seat service answers the sweep (sweepHold, sweepClaim) for each kind of record, and
 * when two stores are down: the outcomes the seat sweep counts (docs/quorum.md, "Mutation
 * testing" lists these as the survivors they kill).
 */
function world() {
  const mem = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
  let down = false;
  const flaky = (a: MemoryAcceptor): AcceptorPort => {
    const gate = <T>(f: () => Promise<T>) => (down ? Promise.reject(new Error("down")) : f());
    return {
      prepare: (r) => gate(() => a.prepare(r)),
      accept: (e) => gate(() => a.accept(e)),
      deleteIf: (e) => gate(() => a.deleteIf(e)),
      read: (k) => gate(() => a.read(k)),
      scan: (p, o) => gate(() => a.scan(p, o)),
      ping: () => gate(() => a.ping()),
    };
  };
  let clock = 1_000_000;
  let seed = 11;
  const random = () => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  const client = new QuorumClient({
    acceptors: [mem[0]!, flaky(mem[1]!), flaky(mem[2]!)],
    proposerId: "p1",
    now: () => clock,
    random,
    sleep: async () => {},
    timeoutMs: 20,
  });
  const randomBytes = (k: number) => Uint8Array.from({ length: k }, () => (random() * 256) | 0);
  const s = new SeatService(client, { now: () => clock, randomBytes });
  return {
    s,
    setDown: (d: boolean) => {
      down = d;
    },
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

const seats = [{ section: "A", seatId: "a1" }];

async function held(w: ReturnType<typeof world>, key = "k1") {
  const h = await w.s.hold("u1", key, { eventId: "ev", seats });
  if (!h.ok) throw new Error(`hold failed: ${h.code}`);
  return h.value.holdId;
}

describe("SeatService sweep entry points", () => {
  it("a hold id with no record is kept (nothing to sweep); held and sold holds are kept", async () => {
    const w = world();
    expect(await w.s.sweepHold("hNothing")).toBe("kept");
    const id = await held(w);
    expect(await w.s.sweepHold(id)).toBe("kept");
    expect(await w.s.confirm("u1", "c1", { holdId: id })).toMatchObject({ ok: true });
    w.advance(RECORD_RETENTION_MS * 2);
    expect(await w.s.sweepHold(id)).toBe("kept");
  });

  it("a hold past expiry is rolled back ('expired'), then swept once past the retention", async () => {
    const w = world();
    const id = await held(w);
    w.advance(HOLD_TTL_MS + SKEW_MARGIN_MS + 1);
    expect(await w.s.sweepHold(id)).toBe("expired");
    expect(await w.s.sweepHold(id)).toBe("expired");
    w.advance(RECORD_RETENTION_MS + SKEW_MARGIN_MS + 1);
    expect(await w.s.sweepHold(id)).toBe("swept");
  });

  it("a released hold within the retention is kept", async () => {
    const w = world();
    const id = await held(w);
    expect(await w.s.release("u1", id)).toMatchObject({ ok: true });
    expect(await w.s.sweepHold(id)).toBe("kept");
  });

  it("claims: a young one is kept, an old one swept", async () => {
    const w = world();
    await held(w, "k9");
    const key = idemKey("u1", "k9");
    expect(await w.s.sweepClaim(key)).toBe("kept");
    w.advance(HOLD_TTL_MS + RECORD_RETENTION_MS + 2 * SKEW_MARGIN_MS + 1);
    expect(await w.s.sweepClaim(key)).toBe("swept");
  });

  it("with two stores down, every sweep action fails rather than claiming a result", async () => {
    const w = world();
    const id = await held(w);
    w.setDown(true);
    expect(await w.s.sweepHold(id)).toBe("failed");
    expect(await w.s.sweepClaim(idemKey("u1", "k1"))).toBe("failed");
    expect(await w.s.release("u1", id)).toMatchObject({ ok: false, code: "unavailable" });
    expect(await w.s.hold("u2", "k2", { eventId: "ev", seats })).toMatchObject({
      ok: false,
      code: "unavailable",
    });
  });
});
