import type { Event } from "../../shared/domain/event.ts";
import type { EntityStore } from "./store.ts";

/**
 * What one app instance keeps in memory between requests, per store it serves: records that never
 * change once stored (plan metadata and chunks: a plan's id is the server's and its chunks are
 * written before the metadata that commits them), and the last committed copy of each event it
 * read, which a hold may decide on only while a linearizable read proves it current
 * (services/holds.ts), and the seats of the holds it placed (a purchase's hint). Bounded: an onsale's hot records fit, an instance's memory is not the
 * catalog's.
 */

/** Bytes of JSON the immutable records of one instance may take (Workers allow 128 MB). */
export const IMMUTABLE_CACHE_BYTES = 8_000_000;
/** Event copies one instance keeps (an event record is at most tens of kilobytes). */
export const EVENT_COPIES_MAX = 500;

class BoundedMap<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: string, value: V, bytes: number): void {
    if (bytes > this.maxBytes) return;
    this.delete(key);
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    // Oldest first: Map keeps insertion order.
    for (const k of this.entries.keys()) {
      if (this.bytes <= this.maxBytes && this.entries.size <= this.maxEntries) break;
      this.delete(k);
    }
  }

  private delete(key: string): void {
    const had = this.entries.get(key);
    if (had === undefined) return;
    this.bytes -= had.bytes;
    this.entries.delete(key);
  }
}

/** Holds placed on one instance whose seats it remembers (a few hundred bytes each). */
export const HOLD_SEATS_MAX = 10_000;

/** What never changes in a hold record once it is created: whose it is and which seats. */
export interface HoldSeatsCopy {
  readonly caller: string;
  readonly seats: readonly string[];
}

interface InstanceCache {
  readonly immutable: BoundedMap<unknown>;
  readonly events: BoundedMap<Event>;
  readonly holdSeats: BoundedMap<HoldSeatsCopy>;
}

const caches = new WeakMap<EntityStore, InstanceCache>();

function cacheOf(store: EntityStore): InstanceCache {
  let c = caches.get(store);
  if (c === undefined) {
    c = {
      immutable: new BoundedMap(IMMUTABLE_CACHE_BYTES, Number.POSITIVE_INFINITY),
      events: new BoundedMap(Number.POSITIVE_INFINITY, EVENT_COPIES_MAX),
      holdSeats: new BoundedMap(Number.POSITIVE_INFINITY, HOLD_SEATS_MAX),
    };
    caches.set(store, c);
  }
  return c;
}

/**
 * Records that never change once stored: those this instance has read come from memory, the rest
 * from `read` (whose non-null answers are kept).
 */
export async function readImmutable<T>(
  store: EntityStore,
  keys: readonly string[],
  read: (missing: readonly string[]) => Promise<(T | null)[]>,
): Promise<(T | null)[]> {
  const c = cacheOf(store).immutable;
  const out = keys.map((k) => c.get(k) as T | undefined);
  const missing = keys.filter((_, j) => out[j] === undefined);
  if (missing.length === 0) return out as T[];
  const got = await read(missing);
  const byKey = new Map(missing.map((k, j) => [k, got[j] ?? null]));
  return keys.map((k, j) => {
    if (out[j] !== undefined) return out[j] as T;
    const v = byKey.get(k) ?? null;
    if (v !== null) c.set(k, v, JSON.stringify(v).length);
    return v;
  });
}

/** The last committed copy of an event this instance read (it may be stale). */
export const eventCopy = (store: EntityStore, eventId: string): Event | undefined =>
  cacheOf(store).events.get(eventId);

/** Keeps a committed copy of an event (from a linearizable or a committed local read). */
export const keepEventCopy = (store: EntityStore, event: Event): void => {
  cacheOf(store).events.set(event.id, event, 0);
};

/** The seats of a hold this instance placed: a hint only (the hold's state is read apart), which
 * lets a purchase price its seats while the hold record is still being read. */
export const holdSeatsCopy = (store: EntityStore, holdId: string): HoldSeatsCopy | undefined =>
  cacheOf(store).holdSeats.get(holdId);

export const keepHoldSeats = (store: EntityStore, holdId: string, hold: HoldSeatsCopy): void => {
  cacheOf(store).holdSeats.set(holdId, hold, 0);
};
