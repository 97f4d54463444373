import type { ChangeOutcome, GetOutcome } from "../../shared/quorum/client.ts";
import { QuorumClient } from "../../shared/quorum/client.ts";
import type { SeatTimings } from "../../shared/seats/changes.ts";
import { SeatService } from "../../shared/seats/service.ts";
import type { Register } from "../../shared/seats/types.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";

export type Change = ChangeOutcome<Register>;
export type Get = GetOutcome<Register>;

/** Hooks every call the seat service makes goes through: answer in its place, run it and answer
 * otherwise (an outcome lost after the fact), or act first. The client's own inner calls (a quorum
 * read's write-back) do not. */
export interface Faults {
  change?: (keys: readonly string[], run: () => Promise<Change>) => Promise<Change>;
  get?: (keys: readonly string[], run: () => Promise<Get>) => Promise<Get>;
}

export interface ProviderOptions {
  /** The client's first `times` changes, its inner ones included, come back with `status`
   * without running. */
  readonly flaky?: { readonly status: "unknown" | "unavailable"; readonly times: number };
  readonly faults?: Faults;
  /** Stores this provider reaches (default: the cluster's, as the array stands at each call). */
  readonly stores?: AcceptorPort[];
}

/**
 * Three in-memory stores, one hand-set clock, and seat services ("providers") over them, each
 * with its own client and seeded randomness. `log` lists every change and read any service made.
 */
export function seatCluster(timings?: SeatTimings) {
  const acceptors: AcceptorPort[] = [
    new MemoryAcceptor(),
    new MemoryAcceptor(),
    new MemoryAcceptor(),
  ];
  let clock = 1_000_000;
  let n = 0;
  const log: { op: "change" | "get"; keys: readonly string[] }[] = [];
  const provider = (o: ProviderOptions = {}) => {
    let seed = 7 + n;
    const random = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    const client = new QuorumClient({
      acceptors: o.stores ?? acceptors,
      proposerId: `p${n++}`,
      now: () => clock,
      random,
      sleep: async () => {},
      timeoutMs: 20,
    });
    if (o.flaky) {
      const { status, times } = o.flaky;
      let left = times;
      const change = client.change.bind(client);
      client.change = (async (keys, f) => {
        if (left-- > 0) return { status, reason: "flaky" } as ChangeOutcome<never>;
        return change(keys, f);
      }) as typeof client.change;
    }
    const faults = o.faults ?? {};
    const seen = {
      change: (async (keys, f) => {
        log.push({ op: "change", keys });
        const run = () => client.change(keys, f) as Promise<Change>;
        return faults.change ? faults.change(keys, run) : run();
      }) as QuorumClient["change"],
      get: (async (keys, opts) => {
        log.push({ op: "get", keys });
        const run = () => client.get(keys, opts) as Promise<Get>;
        return faults.get ? faults.get(keys, run) : run();
      }) as QuorumClient["get"],
    } as QuorumClient;
    const randomBytes = (k: number) => Uint8Array.from({ length: k }, () => (random() * 256) | 0);
    const service = new SeatService(seen, {
      now: () => clock,
      randomBytes,
      ...(timings ? { timings } : {}),
    });
    return Object.assign(service, { raw: client });
  };
  return {
    acceptors,
    provider,
    log,
    advance: (ms: number) => {
      clock += ms;
    },
    now: () => clock,
    /** Changes made since `from` whose keys include `key`. */
    changesOn: (key: string, from = 0) =>
      log.slice(from).filter((c) => c.op === "change" && c.keys.includes(key)).length,
  };
}
