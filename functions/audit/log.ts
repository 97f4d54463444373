import {
  type AuditEntry,
  type AuditEntryData,
  appendEntry,
  type ChainHead,
  headOf,
} from "../../shared/audit/entry.ts";
import { sealSegment } from "../../shared/audit/segment.ts";
import type { PrivateJwk, ProviderId } from "../../shared/config.ts";
import type { BlobPort } from "../../shared/storage/ports.ts";
import { segmentBlobKey } from "./layout.ts";

/**
 * One instance's audit chain: entries are appended in memory (hash-chained at once, so their order
 * is fixed the moment they are logged) and sealed into signed segments written to the provider's
 * blob store. See docs/audit-log.md for the design and its durability window.
 */

/** Entries per segment: one blob write per this many accepts keeps the audit cost ~1% of writes. */
export const SEGMENT_ENTRIES = 100;
/**
 * A segment older than this is sealed at the next append even if short, so a quiet instance does
 * not sit on its entries; idle instances are flushed by the scheduled anti-entropy call instead
 * (serverless platforms run no timers between requests).
 */
export const SEGMENT_MAX_AGE_MS = 60_000;
/**
 * Entries held while the blob store refuses segments. Past this, new entries are counted and
 * dropped, and an `audit-gap` entry naming the count is chained in once there is room again: the
 * log says it is incomplete instead of growing until the instance runs out of memory.
 */
/** Longest seal error the stats report (the public audit list shows it). */
export const SEAL_ERROR_MAX = 1000;
export const BUFFER_ENTRIES_MAX = 20 * SEGMENT_ENTRIES;

export const GAP_KIND = "audit-gap";

/** After a failed seal, appends wait this long before trying again (flush always tries): a blob
 * store that is down must not cost one failing write per accept. */
export const SEAL_RETRY_MS = 5_000;

export interface AuditLogOptions {
  provider: ProviderId;
  stream: string;
  signingKey: PrivateJwk;
  blobs: BlobPort;
  now: () => number;
  segmentEntries?: number;
  segmentMaxAgeMs?: number;
  bufferMax?: number;
}

export type AuditRecord = Omit<AuditEntryData, "provider" | "time">;

export interface AuditStats {
  stream: string;
  /** Seq of the last entry chained (0 before the first). */
  seq: number;
  /** Last seq written to the blob store in a sealed segment. */
  sealedSeq: number;
  buffered: number;
  dropped: number;
  segmentsWritten: number;
  sealFailures: number;
  lastSealError?: string;
}

export class AuditLog {
  readonly stream: string;
  private head: ChainHead | null = null;
  private readonly buffer: AuditEntry[] = [];
  /** Time the oldest buffered entry was appended (for SEGMENT_MAX_AGE_MS). */
  private oldestMs = 0;
  private dropped = 0;
  private sealedSeq = 0;
  private segmentsWritten = 0;
  private sealFailures = 0;
  private lastSealError: string | undefined;
  private retryAtMs = 0;
  /** Appends run one at a time: each needs the hash of the one before. */
  private appending: Promise<unknown> = Promise.resolve();
  /** At most one seal in flight, so segments are written in chain order. */
  private sealing: Promise<void> | undefined;

  constructor(private readonly o: AuditLogOptions) {
    this.stream = o.stream;
  }

  private get segmentEntries() {
    return this.o.segmentEntries ?? SEGMENT_ENTRIES;
  }

  /**
   * Chains entries (in the given order) and seals a segment when one is due. Never throws for a
   * logging problem: the write it records has already happened in the store, and refusing to
   * answer would only turn a committed write into an unknown outcome for the proposer.
   */
  async record(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const run = this.appending.then(() => this.appendNow(records));
    this.appending = run.catch(() => undefined);
    await run.catch((e: unknown) => {
      console.error(`[audit ${this.stream}] append failed:`, e);
    });
    if (this.due() && this.o.now() >= this.retryAtMs) await this.seal(false);
  }

  private async appendNow(records: readonly AuditRecord[]): Promise<void> {
    const max = this.o.bufferMax ?? BUFFER_ENTRIES_MAX;
    for (const r of records) {
      if (this.buffer.length >= max) {
        this.dropped++;
        continue;
      }
      if (this.dropped > 0) {
        // Room again after a spell of dropped entries: chain in what was lost before going on.
        await this.push({
          kind: GAP_KIND,
          key: `dropped:${this.dropped}`,
          ballot: "",
          valueHash: "",
          commitId: "",
        });
        this.dropped = 0;
      }
      await this.push(r);
    }
  }

  private async push(r: AuditRecord): Promise<void> {
    const now = this.o.now();
    const entry = await appendEntry(this.head, { ...r, provider: this.o.provider, time: now });
    this.head = await headOf(entry);
    if (this.buffer.length === 0) this.oldestMs = now;
    this.buffer.push(entry);
  }

  private due(): boolean {
    if (this.buffer.length === 0) return false;
    if (this.buffer.length >= this.segmentEntries) return true;
    return this.o.now() - this.oldestMs >= (this.o.segmentMaxAgeMs ?? SEGMENT_MAX_AGE_MS);
  }

  /** Seals everything buffered (in segments of at most SEGMENT_ENTRIES); the scheduled hook. */
  async flush(): Promise<AuditStats> {
    await this.appending;
    await this.seal(true);
    return this.stats();
  }

  private async seal(all: boolean): Promise<void> {
    while (this.sealing) await this.sealing;
    if (!all && !this.due()) return;
    const run = this.sealLoop(all).finally(() => {
      this.sealing = undefined;
    });
    this.sealing = run;
    await run;
  }

  private async sealLoop(all: boolean): Promise<void> {
    while (this.buffer.length > 0 && (all || this.due())) {
      const batch = this.buffer.slice(0, this.segmentEntries);
      const first = batch[0]!;
      const last = batch[batch.length - 1]!;
      try {
        const sealed = await sealSegment(batch, this.o.signingKey);
        await this.o.blobs.put(
          segmentBlobKey(this.stream, first.seq, last.seq),
          JSON.stringify(sealed),
          { contentType: "application/json" },
        );
      } catch (e) {
        // Kept in the buffer for the next seal; the count shows in the segment listing's stats.
        this.sealFailures++;
        this.lastSealError = (e instanceof Error ? e.message : String(e)).slice(0, SEAL_ERROR_MAX);
        this.retryAtMs = this.o.now() + SEAL_RETRY_MS;
        console.error(`[audit ${this.stream}] sealing ${first.seq}-${last.seq} failed:`, e);
        return;
      }
      this.buffer.splice(0, batch.length);
      this.sealedSeq = last.seq;
      this.segmentsWritten++;
      if (this.buffer.length > 0) this.oldestMs = this.buffer[0]!.time;
    }
  }

  stats(): AuditStats {
    const s: AuditStats = {
      stream: this.stream,
      seq: this.head?.seq ?? 0,
      sealedSeq: this.sealedSeq,
      buffered: this.buffer.length,
      dropped: this.dropped,
      segmentsWritten: this.segmentsWritten,
      sealFailures: this.sealFailures,
    };
    if (this.lastSealError !== undefined) s.lastSealError = this.lastSealError;
    return s;
  }

  /** Unsealed entries (tests, and the stats route's size). */
  pending(): readonly AuditEntry[] {
    return this.buffer;
  }
}
