import type { ProviderId } from "../../shared/config.ts";
import type { Event } from "../../shared/domain/event.ts";
import { eventKey, idOfKey, orderKey, scanPrefix, ticketKey } from "../../shared/domain/keys.ts";
import type { Venue } from "../../shared/domain/venue.ts";
import { type BackupCheckIn, type BackupSeat, writeBackup } from "../../shared/formats/backup.ts";
import type { SeatValue } from "../../shared/seats/types.ts";
import type { Revocation } from "../../shared/tickets/revocation.ts";
import { normalizeTrust, toClusterKeys } from "../../shared/tickets/trust.ts";
import { availabilityOf } from "./availability.ts";
import { type EventListEntry, getPlanOf, readMany } from "./catalog.ts";
import type { AdmissionRecord, LegacyCheckIn } from "./door.ts";
import type { Services } from "./index.ts";
import type { StoredOrder } from "./order-record.ts";
import { scanPages } from "./paging.ts";
import type { StoredPlanMeta } from "./plan-chunks.ts";
import { signedRevocations } from "./revocation-feed.ts";
import type { TicketRecord } from "./tickets.ts";
import { formerKeysOf } from "./trust.ts";

/**
 * The theatre backup (shared/formats/backup.ts) fed from paged LOCAL scans: every section is an
 * async sequence of pages, so memory holds one page (≤ SCAN_LIMIT_MAX records) plus, for the
 * seating plans section, one plan at a time. A local scan is this provider's copy: the backup is
 * a snapshot of one store, which anti-entropy keeps within moments of the quorum.
 */

/** Where stored backups live in the blob store; parts are concatenated in order to download. */
export const backupPrefix = (theaterId: string, backupId: string) =>
  `backups/${theaterId}/${backupId}/`;
export const backupManifestKey = (theaterId: string, backupId: string) =>
  `${backupPrefix(theaterId, backupId)}manifest.json`;
export const backupPartKey = (theaterId: string, backupId: string, n: number) =>
  `${backupPrefix(theaterId, backupId)}part-${String(n).padStart(6, "0")}`;

/**
 * Bytes per stored part: blob puts take a whole body, so a stored backup is written in parts of at
 * most this size to keep memory bounded whatever the theatre's size.
 */
export const BACKUP_PART_BYTES = 8 * 1024 * 1024;

export interface BackupManifest {
  id: string;
  theaterId: string;
  createdAt: string;
  parts: number;
  bytes: number;
  provider: ProviderId;
}

async function* values<T>(s: Services, prefix: string): AsyncGenerator<T[]> {
  for await (const page of scanPages<T>(s, prefix)) yield page.map((p) => p.value);
}

/** Records named by an index's keys (`<prefix><id>`), a page at a time, read locally. */
async function* indexed<T>(
  s: Services,
  prefix: string,
  keyOf: (id: string) => string,
): AsyncGenerator<T[]> {
  for await (const page of scanPages<unknown>(s, prefix)) {
    const got = await readMany<T>(
      s,
      page.map((p) => keyOf(idOfKey(p.key))),
      "local",
    );
    const present = got.filter((v): v is Awaited<T> & {} => v !== null) as T[];
    if (present.length > 0) yield present;
  }
}

async function* eventIds(s: Services, theaterId: string): AsyncGenerator<string> {
  for await (const page of scanPages<EventListEntry>(s, scanPrefix.theaterEvents(theaterId))) {
    for (const it of page) yield idOfKey(it.key);
  }
}

async function* seatsOf(s: Services, theaterId: string): AsyncGenerator<BackupSeat[]> {
  const now = s.now();
  for await (const eid of eventIds(s, theaterId)) {
    for await (const page of scanPages<SeatValue>(s, scanPrefix.eventSeats(eid))) {
      yield page.map(({ key, value }): BackupSeat => {
        const seatId = idOfKey(key);
        const a = availabilityOf(value, now);
        if (a === "sold" && value.state === "sold") {
          return { eventId: eid, seatId, state: "sold", orderId: value.orderId };
        }
        return a === "held"
          ? { eventId: eid, seatId, state: "held" }
          : { eventId: eid, seatId, state: "available" };
      });
    }
  }
}

/**
 * The seats admitted at the door, per event: the per-seat admissions, then check-ins written
 * before admission was per seat (keyed by ticket; placed on their seat through the ticket record,
 * and left out where the seat has an admission already or the record is gone).
 */
async function* checkInsOf(s: Services, theaterId: string): AsyncGenerator<BackupCheckIn[]> {
  const entry = (r: BackupCheckIn): BackupCheckIn => ({
    eventId: r.eventId,
    seatId: r.seatId,
    ticketId: r.ticketId,
    orderId: r.orderId,
    at: r.at,
  });
  for await (const eid of eventIds(s, theaterId)) {
    const seen = new Set<string>();
    for await (const page of scanPages<AdmissionRecord>(s, scanPrefix.eventAdmissions(eid))) {
      for (const { value } of page) seen.add(value.seatId);
      yield page.map(({ value }) => entry(value));
    }
    for await (const page of scanPages<LegacyCheckIn>(s, scanPrefix.eventLegacyCheckIns(eid))) {
      const recs = await readMany<TicketRecord>(
        s,
        page.map((p) => ticketKey(p.value.ticketId)),
        "local",
      );
      const out: BackupCheckIn[] = [];
      page.forEach(({ value }, i) => {
        const t = recs[i];
        if (!t) return;
        const seatId = idOfKey(t.seatKey);
        if (seen.has(seatId)) return;
        seen.add(seatId);
        out.push(
          entry({
            eventId: eid,
            seatId,
            ticketId: value.ticketId,
            orderId: t.orderId,
            at: value.at,
          }),
        );
      });
      if (out.length > 0) yield out;
    }
  }
}

async function* perEvent<T>(
  s: Services,
  theaterId: string,
  prefixOf: (eid: string) => string,
  keyOf: (id: string) => string,
  keep: (v: T) => unknown,
): AsyncGenerator<unknown[]> {
  for await (const eid of eventIds(s, theaterId)) {
    for await (const page of indexed<T>(s, prefixOf(eid), keyOf)) yield page.map(keep);
  }
}

async function* plansOf(
  s: Services,
  theaterId: string,
): AsyncGenerator<{ id: string; theaterId: string }[]> {
  for await (const page of scanPages<StoredPlanMeta>(s, scanPrefix.theaterPlans(theaterId))) {
    for (const { value: meta } of page) {
      const plan = await getPlanOf(s, meta, "local");
      if (plan === null) throw new Error(`plan ${meta.id}: a chunk is missing`);
      yield [{ ...plan, theaterId }];
    }
  }
}

/** The backup as text chunks, streamed from paged local scans. Carries the keys of clusters this
 * theatre was imported from, so tickets sold before a fork still verify after the next one. */
export async function* theaterBackup(
  s: Services,
  theater: { id: string; name: string },
): AsyncGenerator<string> {
  const keys = toClusterKeys(normalizeTrust(s.deps.cluster)[0]!);
  const tid = theater.id;
  const formerKeys = await formerKeysOf(s, tid);
  yield* writeBackup({
    ...(formerKeys.length > 0 ? { formerKeys } : {}),
    clusterId: s.deps.cluster.clusterId,
    theater,
    exportedAt: new Date(s.now()).toISOString(),
    keys,
    venues: values<Venue>(s, scanPrefix.theaterVenues(tid)),
    seatingPlans: plansOf(s, tid),
    events: perEventIndex(s, tid),
    seats: seatsOf(s, tid),
    orders: perEvent<StoredOrder>(
      s,
      tid,
      scanPrefix.eventOrders,
      orderKey,
      (o) => o,
    ) as AsyncIterable<StoredOrder[]>,
    tickets: perEvent<{ ticket: unknown }>(
      s,
      tid,
      scanPrefix.eventTickets,
      ticketKey,
      (t) => t.ticket,
    ) as AsyncIterable<never[]>,
    checkIns: checkInsOf(s, tid),
    revocations: revocationsOf(s, tid),
  });
}

/** Each event's co-signed revocations, a feed page at a time, as this provider's store holds them. */
async function* revocationsOf(s: Services, theaterId: string): AsyncGenerator<Revocation[]> {
  for await (const eid of eventIds(s, theaterId)) yield* signedRevocations(s, eid);
}

function perEventIndex(s: Services, tid: string): AsyncIterable<Event[]> {
  return indexed<Event>(s, scanPrefix.theaterEvents(tid), eventKey);
}

/** A stored backup's parts, in order, for download. */
export async function* storedBackupParts(
  s: Services,
  manifest: BackupManifest,
): AsyncGenerator<Uint8Array> {
  for (let n = 0; n < manifest.parts; n++) {
    const part = await s.deps.blobs.get(backupPartKey(manifest.theaterId, manifest.id, n));
    if (part === null) throw new Error(`backup ${manifest.id}: part ${n} is missing`);
    yield part;
  }
}

/** Writes the backup to the blob store in parts, then its manifest (the commit point). */
export async function storeBackup(
  s: Services,
  theater: { id: string; name: string },
  backupId: string,
): Promise<BackupManifest> {
  const enc = new TextEncoder();
  let buf: Uint8Array[] = [];
  let size = 0;
  let parts = 0;
  let bytes = 0;
  const flush = async () => {
    if (size === 0) return;
    const body = new Uint8Array(size);
    let at = 0;
    for (const b of buf) {
      body.set(b, at);
      at += b.length;
    }
    await s.deps.blobs.put(backupPartKey(theater.id, backupId, parts), body, {
      contentType: "application/octet-stream",
    });
    parts++;
    buf = [];
    size = 0;
  };
  for await (const chunk of theaterBackup(s, theater)) {
    const b = enc.encode(chunk);
    buf.push(b);
    size += b.length;
    bytes += b.length;
    if (size >= BACKUP_PART_BYTES) await flush();
  }
  await flush();
  const manifest: BackupManifest = {
    id: backupId,
    theaterId: theater.id,
    createdAt: new Date(s.now()).toISOString(),
    parts,
    bytes,
    provider: s.deps.provider,
  };
  await s.deps.blobs.put(backupManifestKey(theater.id, backupId), JSON.stringify(manifest), {
    contentType: "application/json",
  });
  return manifest;
}

export async function readBackupManifest(
  s: Services,
  theaterId: string,
  backupId: string,
): Promise<BackupManifest | null> {
  const raw = await s.deps.blobs.get(backupManifestKey(theaterId, backupId));
  return raw === null ? null : (JSON.parse(new TextDecoder().decode(raw)) as BackupManifest);
}
