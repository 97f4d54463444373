import { RemoteAcceptor } from "../../functions/peers/remote-acceptor.ts";
import { randomBytes } from "../../functions/random.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { holdKey, idemKey, type SeatRef, seatKey } from "../../shared/domain/keys.ts";
import { QUORUM } from "../../shared/quorum/tally.ts";
import { seatIsFreeFor } from "../../shared/seats/changes.ts";
import type { HoldKeys, SeatOutcome } from "../../shared/seats/service.ts";
import { SeatService } from "../../shared/seats/service.ts";
import type { HoldRecord, SeatValue } from "../../shared/seats/types.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import {
  aborted,
  type Buyer,
  type BuyerOutcome,
  type HoldValue,
  type Measured,
  type OpControl,
  type OrderValue,
  type SaleBackend,
} from "./backend.ts";
import {
  AbsentAcceptor,
  clock,
  MeasuredQuorumClient,
  newOp,
  type OpContext,
  runOp,
  type StoreCallCount,
  TimingAcceptor,
} from "./measure.ts";
import { median } from "./stats.ts";
import { inBatches } from "./verify.ts";
import type { WanCluster } from "./wan-cluster.ts";

/**
 * The protocol-level system under test: for each provider, a coordinator in this process that
 * stands where that provider's app would stand. Its own store is reached directly (same region),
 * the other two across the WAN proxies, signed as that provider, exactly as its app's peer calls
 * are. So the measured commit is the real CASPaxos over the real three stores, minus the app's
 * HTTP and auth layers (the HTTP section measures those).
 */
export interface Coordinator {
  readonly provider: ProviderId;
  readonly client: MeasuredQuorumClient;
  readonly seats: SeatService;
}

/** Peer-call answers, counted per kind: the chaos run reports them. */
export interface PeerStatusCounts {
  ok: number;
  /** 503 with Retry-After (a store behind the peer endpoint is down: the documented answer). */
  retryAfter503: number;
  /** Any other 5xx. */
  errors5xx: number;
  other4xx: number;
  /** No answer at all (connection refused or reset, time-out). */
  noAnswer: number;
}

export function newPeerCounts(): PeerStatusCounts {
  return { ok: 0, retryAfter503: 0, errors5xx: 0, other4xx: 0, noAnswer: 0 };
}

export function countingFetch(counts: PeerStatusCounts, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    try {
      const r = await inner(input, init);
      if (r.status < 400) counts.ok++;
      else if (r.status === 503 && r.headers.has("retry-after")) counts.retryAfter503++;
      else if (r.status >= 500) counts.errors5xx++;
      else counts.other4xx++;
      return r;
    } catch (e) {
      counts.noAnswer++;
      throw e;
    }
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const tag = () => Math.floor(Math.random() * 2 ** 40).toString(36);

function makeSeatService(client: MeasuredQuorumClient): SeatService {
  return new SeatService(client, { now: Date.now, randomBytes });
}

/** One coordinator per provider over the WAN cluster's three stores. */
export function wanCoordinators(
  wan: WanCluster,
  counts: PeerStatusCounts,
  storeCalls?: StoreCallCount,
): Record<ProviderId, Coordinator> {
  const doFetch = countingFetch(counts);
  const out = {} as Record<ProviderId, Coordinator>;
  for (const [at, p] of PROVIDERS.entries()) {
    const acceptors: AcceptorPort[] = PROVIDERS.map((q, i) => {
      const remote = new RemoteAcceptor(
        q === p
          ? // Own store: no WAN hop. The endpoint only takes calls signed by another provider (a
            // provider calls its own store in-process), so borrow a peer's key for it.
            { to: q, url: wan.direct[q], key: wan.signerFor(q).key, now: Date.now, fetch: doFetch }
          : {
              to: q,
              url: wan.proxies[q].url,
              key: wan.keys[p],
              now: Date.now,
              // The link from p to q, in process (same profile and faults as the proxy).
              fetch: countingFetch(counts, wan.proxies[q].via(p)),
            },
      );
      return new TimingAcceptor(remote, i, storeCalls);
    });
    const client = new MeasuredQuorumClient({
      acceptors,
      localIndex: at,
      proposerId: `bench-${p}-${tag()}`,
      now: Date.now,
      random: Math.random,
      sleep,
    });
    out[p] = { provider: p, client, seats: makeSeatService(client) };
  }
  return out;
}

/** The baseline's quorum: its one store decides alone, as a one-database deployment does. Kept apart
 * from the cluster's QUORUM: a quorum of one is safe only because there is one store. */
export const SINGLE_STORE_QUORUM = 1;

/**
 * The single-store baseline: the same seat service with a quorum of one over one store and no
 * other (conditional writes straight to that store, as a one-database deployment does). Three
 * coordinators still share it, as three app instances would.
 */
export function singleStoreCoordinators(
  store: AcceptorPort,
  storeCalls?: StoreCallCount,
): Record<ProviderId, Coordinator> {
  const out = {} as Record<ProviderId, Coordinator>;
  for (const p of PROVIDERS) {
    const client = new MeasuredQuorumClient({
      acceptors: [
        new TimingAcceptor(store, 0, storeCalls),
        new AbsentAcceptor(),
        new AbsentAcceptor(),
      ],
      localIndex: 0,
      proposerId: `single-${p}-${tag()}`,
      now: Date.now,
      random: Math.random,
      sleep,
      quorum: SINGLE_STORE_QUORUM,
    });
    out[p] = { provider: p, client, seats: makeSeatService(client) };
  }
  return out;
}

function toOutcome<T, U>(r: SeatOutcome<T>, map: (v: T) => U): BuyerOutcome<U> {
  if (r.ok) return { ok: true, value: map(r.value), replayed: r.replayed };
  const taken =
    r.code === "taken" && Array.isArray(r.detail) ? (r.detail as string[]).slice() : undefined;
  return {
    ok: false,
    status: r.status,
    code: r.code,
    retryAfter: r.status === 503,
    ...(taken ? { taken } : {}),
  };
}

/** Runs one SeatService call as a measured operation, optionally "crashing" its coordinator. */
async function measured<T, U>(
  fn: () => Promise<SeatOutcome<T>>,
  map: (v: T) => U,
  ctl: OpControl | undefined,
  quorum: boolean,
): Promise<Measured<U>> {
  const op: OpContext = newOp();
  const t0 = clock();
  const work = runOp(op, fn);
  if (ctl?.abortAfterMs !== undefined) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<"killed">((r) => {
      timer = setTimeout(() => r("killed"), ctl.abortAfterMs);
    });
    const first = await Promise.race([work, killed]);
    clearTimeout(timer);
    if (first === "killed") {
      // The coordinator dies here: calls already sent still land, no further call leaves it.
      op.killed = true;
      void work.catch(() => undefined);
      return aborted(clock() - t0);
    }
  }
  const r = await work;
  const latencyMs = clock() - t0;
  const t2 = quorum ? median(op.changes.map((c) => c.t2Ms)) : Number.NaN;
  return {
    outcome: toOutcome(r, map),
    measure: {
      latencyMs,
      ...(Number.isFinite(t2) ? { t2Ms: t2 } : {}),
      changes: op.changes.length,
    },
  };
}

const unreachable = <T>(): Measured<T> => ({
  outcome: { ok: false, status: 0, code: "unreachable", retryAfter: false },
  measure: { latencyMs: 0 },
});

export class ProtocolBackend implements SaleBackend {
  readonly providers = PROVIDERS;
  private readonly quorum: boolean;
  /** Providers whose app is down (chaos stopped its runtime): buyers there get no answer. */
  readonly down = new Set<ProviderId>();
  /** The keys of each hold answered ok (its seats, its claim), as the buyer's app would keep
   * them for its confirm: a hint the confirm's change checks against the record. */
  private readonly holdKeys = new Map<string, HoldKeys>();

  constructor(
    readonly name: string,
    readonly coordinators: Record<ProviderId, Coordinator>,
    opts: { quorumOf?: number } = {},
  ) {
    this.quorum = (opts.quorumOf ?? QUORUM) > SINGLE_STORE_QUORUM;
  }

  async buyer(n: number): Promise<Buyer> {
    return { id: `buyer${n}` };
  }

  /** A quorum read of the seats and of the holds that lock them, as a hold would judge them. */
  async freeOnMap(
    at: ProviderId,
    _buyer: Buyer,
    eventId: string,
    seats: readonly SeatRef[],
  ): Promise<Set<string> | null> {
    if (this.down.has(at)) return null;
    return this.readFree(at, eventId, seats).catch(() => null);
  }

  private async readFree(
    at: ProviderId,
    eventId: string,
    seats: readonly SeatRef[],
  ): Promise<Set<string>> {
    const client = this.coordinators[at].client;
    const read = <T>(keys: readonly string[]) =>
      inBatches(keys, async (b) => {
        const got = await client.get<T>(b, { consistency: "majority" });
        if (got.status !== "ok") throw new Error(got.reason);
        return got.values;
      });
    const values = await read<SeatValue>(seats.map((r) => seatKey(eventId, r.section, r.seatId)));
    const holders = [
      ...new Set(values.flatMap((v) => (v !== null && v.state === "held" ? [v.holdId] : []))),
    ];
    const recs = holders.length === 0 ? [] : await read<HoldRecord>(holders.map(holdKey));
    const records = new Map(holders.map((id, i) => [id, recs[i] ?? null] as const));
    const now = Date.now();
    const free = new Set<string>();
    seats.forEach((r, i) => {
      const v = values[i] ?? null;
      const holder = v !== null && v.state === "held" ? records.get(v.holdId) : undefined;
      if (seatIsFreeFor(v, "", now, holder) === "free") free.add(`${r.section}/${r.seatId}`);
    });
    return free;
  }

  hold(
    at: ProviderId,
    buyer: Buyer,
    idem: string,
    eventId: string,
    seats: readonly { section: string; seatId: string }[],
    ctl?: OpControl,
  ): Promise<Measured<HoldValue>> {
    if (this.down.has(at)) return Promise.resolve(unreachable());
    return measured(
      () => this.coordinators[at].seats.hold(buyer.id, idem, { eventId, seats }),
      (v) => {
        this.holdKeys.set(v.holdId, { seats: v.seats, claimKey: idemKey(buyer.id, idem) });
        return { holdId: v.holdId, seats: v.seats };
      },
      ctl,
      this.quorum,
    );
  }

  confirm(
    at: ProviderId,
    buyer: Buyer,
    idem: string,
    holdId: string,
    ctl?: OpControl,
  ): Promise<Measured<OrderValue>> {
    if (this.down.has(at)) return Promise.resolve(unreachable());
    return measured(
      () => {
        const record = this.holdKeys.get(holdId);
        return this.coordinators[at].seats.confirm(buyer.id, idem, {
          holdId,
          ...(record ? { record } : {}),
        });
      },
      (v) => ({ holdId: v.holdId, orderId: v.orderId }),
      ctl,
      this.quorum,
    );
  }

  release(
    at: ProviderId,
    buyer: Buyer,
    holdId: string,
    ctl?: OpControl,
  ): Promise<Measured<unknown>> {
    if (this.down.has(at)) return Promise.resolve(unreachable());
    return measured(
      () => this.coordinators[at].seats.release(buyer.id, holdId),
      (v) => v,
      ctl,
      this.quorum,
    );
  }
}
