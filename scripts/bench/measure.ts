import { AsyncLocalStorage } from "node:async_hooks";
import { QuorumClient, type QuorumClientOptions } from "../../shared/quorum/client.ts";
import type {
  AcceptEntry,
  AcceptorRecord,
  AcceptReply,
  DeleteEntry,
  DeleteReply,
  PrepareReply,
  PrepareRequest,
  ScanPage,
} from "../../shared/quorum/messages.ts";
import type { ChangeFn, ChangeOutcome } from "../../shared/quorum/proposer.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";

/**
 * Measurement of quorum operations as the coordinator sees them. Every acceptor call is timed and
 * filed under the change that made it (AsyncLocalStorage follows the change's promise chain), so
 * each change knows the reply times of its three acceptors: t2, the second-fastest reply of its
 * first wave, is the floor of a 2-of-3 commit, and latency / t2 is its cost in round trips.
 */

export interface CallSample {
  readonly acceptor: number;
  readonly op: "prepare" | "accept" | "read" | "scan";
  readonly startMs: number;
  /** Infinity when the call failed or was cut off. */
  readonly durMs: number;
  /** Keys refused (ballot conflicts) in the reply. */
  readonly refused: number;
}

export interface ChangeSample {
  readonly keys: number;
  /** The first key of the change (for contention diagnostics: which register is hot). */
  readonly firstKey: string;
  readonly startMs: number;
  readonly latencyMs: number;
  readonly status: ChangeOutcome<unknown>["status"];
  /** Second-fastest reply among the first call to each acceptor; Infinity if fewer than two. */
  readonly t2Ms: number;
  readonly calls: readonly CallSample[];
}

/** One buyer-level operation (a hold, a confirm...): the changes it made, and its kill switch. */
export interface OpContext {
  readonly changes: ChangeSample[];
  /** Set when the coordinator "crashes" mid-request: no further acceptor call leaves it. */
  killed: boolean;
}

interface ChangeContext {
  readonly op: OpContext | undefined;
  readonly calls: CallSample[];
}

const als = new AsyncLocalStorage<ChangeContext>();
const opAls = new AsyncLocalStorage<OpContext>();

export const clock = (): number => performance.now();

export function newOp(): OpContext {
  return { changes: [], killed: false };
}

/** Runs `fn` as one measured operation. */
export function runOp<T>(op: OpContext, fn: () => Promise<T>): Promise<T> {
  return opAls.run(op, fn);
}

export class CoordinatorKilled extends Error {
  override name = "CoordinatorKilled";
}

/** Second smallest of the first reply time per acceptor. */
export function firstWaveT2(calls: readonly CallSample[]): number {
  const first = new Map<number, number>();
  for (const c of calls) if (!first.has(c.acceptor)) first.set(c.acceptor, c.durMs);
  const d = [...first.values()].sort((a, b) => a - b);
  return d[1] ?? Number.POSITIVE_INFINITY;
}

/** A QuorumClient whose changes (and quorum reads, which are changes) are measured. */
export class MeasuredQuorumClient extends QuorumClient {
  /** Every change this client made, buyer operation or not (settling, verification reads). */
  readonly samples: ChangeSample[] = [];
  recording = true;

  constructor(o: QuorumClientOptions) {
    super(o);
  }

  override change<T>(keys: readonly string[], f: ChangeFn<T>): Promise<ChangeOutcome<T>> {
    const op = opAls.getStore();
    const ctx: ChangeContext = { op, calls: [] };
    const t0 = clock();
    return als.run(ctx, async () => {
      const out = await super.change(keys, f);
      const sample: ChangeSample = {
        keys: keys.length,
        firstKey: keys[0] ?? "",
        startMs: t0,
        latencyMs: clock() - t0,
        status: out.status,
        t2Ms: firstWaveT2(ctx.calls),
        calls: ctx.calls,
      };
      if (this.recording) this.samples.push(sample);
      op?.changes.push(sample);
      return out;
    });
  }
}

const refusedIn = (replies: unknown): number =>
  Array.isArray(replies) ? replies.filter((r) => (r as { ok?: boolean }).ok === false).length : 0;

/** Times every call into the change context it belongs to; refuses to call for a killed op. */
/** Store calls made through a set of TimingAcceptors: `calls` requests to a store, `keys` the
 * registers they named (one batched prepare of six seats is one call and six keys). */
export interface StoreCallCount {
  calls: number;
  keys: number;
}

export const newStoreCallCount = (): StoreCallCount => ({ calls: 0, keys: 0 });

export class TimingAcceptor implements AcceptorPort {
  constructor(
    private readonly inner: AcceptorPort,
    readonly index: number,
    private readonly count?: StoreCallCount,
  ) {}

  private tally(keys: number) {
    if (!this.count) return;
    this.count.calls++;
    this.count.keys += keys;
  }

  private async timed<R>(op: CallSample["op"], fn: () => Promise<R>): Promise<R> {
    const ctx = als.getStore();
    if (ctx?.op?.killed) throw new CoordinatorKilled("coordinator killed");
    const t0 = clock();
    try {
      const r = await fn();
      ctx?.calls.push({
        acceptor: this.index,
        op,
        startMs: t0,
        durMs: clock() - t0,
        refused: refusedIn(r),
      });
      return r;
    } catch (e) {
      ctx?.calls.push({
        acceptor: this.index,
        op,
        startMs: t0,
        durMs: Number.POSITIVE_INFINITY,
        refused: 0,
      });
      throw e;
    }
  }

  prepare(req: PrepareRequest): Promise<PrepareReply[]> {
    this.tally(req.keys.length);
    return this.timed("prepare", () => this.inner.prepare(req));
  }
  accept(entries: readonly AcceptEntry[]): Promise<AcceptReply[]> {
    this.tally(entries.length);
    return this.timed("accept", () => this.inner.accept(entries));
  }
  deleteIf(entries: readonly DeleteEntry[]): Promise<DeleteReply[]> {
    this.tally(entries.length);
    return this.inner.deleteIf(entries);
  }
  read(keys: readonly string[]): Promise<AcceptorRecord[]> {
    this.tally(keys.length);
    return this.timed("read", () => this.inner.read(keys));
  }
  scan(prefix: string, opts?: { cursor?: string; limit?: number }): Promise<ScanPage> {
    this.tally(1);
    return this.timed("scan", () => this.inner.scan(prefix, opts));
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
}

/** Stands for "no second or third store" in the single-store baseline: fails at once, so a
 * quorum of one decides on the real store alone without waiting. */
export class AbsentAcceptor implements AcceptorPort {
  private fail(): Promise<never> {
    return Promise.reject(new Error("no such store in a single-store deployment"));
  }
  prepare(): Promise<PrepareReply[]> {
    return this.fail();
  }
  accept(): Promise<AcceptReply[]> {
    return this.fail();
  }
  deleteIf(): Promise<DeleteReply[]> {
    return this.fail();
  }
  read(): Promise<AcceptorRecord[]> {
    return this.fail();
  }
  scan(): Promise<ScanPage> {
    return this.fail();
  }
  ping(): Promise<void> {
    return this.fail();
  }
}
