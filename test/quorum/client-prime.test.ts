import { describe, expect, it } from "vitest";
import { QuorumClient } from "../../shared/quorum/client.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";

/*
 * A prime runs a change's prepare ahead of it: the change that follows sends only its accepts,
 * and builds on exactly what a prepare at the prime's ballot read. Each "cannot" has a broken
 * control (`primeForgets`, the simulator's `prime-forgets` break).
 */

function counted(accs: MemoryAcceptor[]) {
  const calls = { prepare: 0, accept: 0 };
  const ports: AcceptorPort[] = accs.map((a) => ({
    prepare: (r) => {
      calls.prepare++;
      return a.prepare(r);
    },
    accept: (e) => {
      calls.accept++;
      return a.accept(e);
    },
    deleteIf: a.deleteIf.bind(a),
    read: a.read.bind(a),
    scan: a.scan.bind(a),
    ping: a.ping.bind(a),
  }));
  return { calls, ports };
}

/** One clock for every instance of a test, as on one machine. */
let t = 1_000;

function client(acceptors: AcceptorPort[], id: string, o: { primeForgets?: boolean } = {}) {
  let seed = 7;
  return new QuorumClient({
    acceptors,
    proposerId: id,
    now: () => t++,
    random: () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
    timeoutMs: 50,
    ...o,
  });
}

const three = () => [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];

describe("QuorumClient.prime", () => {
  it("a primed change sends no prepare, and builds on the value another instance committed", async () => {
    const accs = three();
    const { calls, ports } = counted(accs);
    await client(ports, "other").change(["k"], () => ({ values: [41] }));
    const c = client(ports, "me");
    calls.prepare = 0;
    expect(await c.prime(["k"])).toBe(true);
    expect(calls.prepare).toBe(3);
    let seen: unknown;
    let chosen: boolean | undefined;
    const out = await c.change<number>(["k"], (cur, view) => {
      seen = cur[0];
      chosen = view?.chosen[0];
      return { values: [(cur[0] ?? 0) + 1] };
    });
    expect(out.status).toBe("ok");
    expect(calls.prepare).toBe(3);
    expect(seen).toBe(41);
    expect(chosen).toBe(true);
    expect(await client(ports, "reader").get(["k"])).toEqual({ status: "ok", values: [42] });
  });

  it("leaves warm keys alone and primes only the cold ones", async () => {
    const { calls, ports } = counted(three());
    const c = client(ports, "me");
    await c.change(["a"], () => ({ values: [1] }));
    calls.prepare = 0;
    expect(await c.prime(["a", "b"])).toBe(true);
    expect(calls.prepare).toBe(3);
    const accepts = calls.accept;
    await c.change(["a", "b"], () => ({ values: [2, 3] }));
    expect(calls.prepare).toBe(3);
    expect(calls.accept).toBe(accepts + 3);
  });

  it("cannot: a value one store took is never handed over as chosen", async () => {
    const accs = three();
    const { ports } = counted(accs);
    // A lone acceptance (its coordinator died after one accept): the highest accepted, unproven.
    await accs[0]!.prepare({ keys: ["k"], ballot: "0000000000000500.zz" });
    await accs[0]!.accept([
      { key: "k", ballot: "0000000000000500.zz", value: "7", next: null },
    ] as never);
    const c = client(ports, "me");
    expect(await c.prime(["k"])).toBe(true);
    let chosen: boolean | undefined;
    await c.change<number>(["k"], (cur, view) => {
      chosen = view?.chosen[0];
      return { values: cur };
    });
    expect(chosen).toBe(false);
  });

  it("cannot: spend a prime after a higher ballot was promised; the change prepares again", async () => {
    const { calls, ports } = counted(three());
    const c = client(ports, "me");
    expect(await c.prime(["k"])).toBe(true);
    await client(ports, "rival").change(["k"], () => ({ values: [5] }));
    calls.prepare = 0;
    const seen: unknown[] = [];
    const out = await c.change<number>(["k"], (cur) => {
      seen.push(cur[0]);
      return { values: [(cur[0] ?? 0) + 1] };
    });
    // The primed accept is refused (f ran on the prime's empty read, which never lands); the
    // change prepares again and builds on the rival's 5. Unknown is the proposer's honest answer
    // when the rival's ballot is past the refused accept's fence (then 5 stays, or 6 lands).
    expect(calls.prepare).toBeGreaterThan(0);
    const final = await client(ports, "reader").get<number>(["k"]);
    if (out.status === "ok") {
      expect(seen.at(-1)).toBe(5);
      expect(final).toEqual({ status: "ok", values: [6] });
    } else {
      expect(out.status).toBe("unknown");
      expect([5, 6]).toContain(final.status === "ok" ? final.values[0] : undefined);
    }
  });

  it("broken control: a prime that forgets what it read loses the committed value", async () => {
    const { ports } = counted(three());
    await client(ports, "other").change(["k"], () => ({ values: [41] }));
    const c = client(ports, "me", { primeForgets: true });
    await c.prime(["k"]);
    let seen: unknown = "unset";
    await c.change<number>(["k"], (cur) => {
      seen = cur[0];
      return { values: [(cur[0] ?? 0) + 1] };
    });
    expect(seen).toBeNull();
    expect(await client(ports, "reader").get(["k"])).toEqual({ status: "ok", values: [1] });
  });
});
