import { z } from "@hono/zod-openapi";
import { toBase64Url } from "../../shared/crypto/base64.ts";
import { toHex } from "../../shared/crypto/sha256.ts";
import { Event } from "../../shared/domain/event.ts";
import { Id } from "../../shared/domain/ids.ts";
import {
  buyerOrderKey,
  buyerTicketKey,
  eventAdmissionKey,
  eventKey,
  eventListKey,
  eventOrderKey,
  eventTicketKey,
  holdKey,
  importKey,
  orderKey,
  planKey,
  seatKey,
  theaterEventKey,
  theaterIdemKey,
  theaterPlanKey,
  ticketKey,
  trustKey,
  venueKey,
} from "../../shared/domain/keys.ts";
import { type SeatingPlan, seatSections } from "../../shared/domain/seating-plan.ts";
import { Venue } from "../../shared/domain/venue.ts";
import {
  type BackupFile,
  type BackupFormatVersion,
  BackupHeader,
} from "../../shared/formats/backup.ts";
import { canonicalJson } from "../../shared/formats/canonical-json.ts";
import { type BackupReport, verifyBackup } from "../../shared/formats/verify-backup.ts";
import { validatePlan } from "../../shared/plans/validate.ts";
import type { HoldRecord, SeatValue } from "../../shared/seats/types.ts";
import { BATCH_KEYS_MAX } from "../../shared/storage/ports.ts";
import type { TicketClaims } from "../../shared/tickets/claims.ts";
import { decodeClaims } from "../../shared/tickets/claims.ts";
import type { Ticket } from "../../shared/tickets/sign.ts";
import { keysCoveredBy, normalizeTrust, type TrustedCluster } from "../../shared/tickets/trust.ts";
import { verifyTicketWith } from "../../shared/tickets/verify.ts";
import { ProblemError } from "../problem.ts";
import { eventListEntry } from "./catalog.ts";
import type { AdmissionRecord } from "./door.ts";
import type { Services } from "./index.ts";
import { StoredOrder } from "./order-record.ts";
import { chunkPlan } from "./plan-chunks.ts";
import { pool } from "./pool.ts";
import { revokeOrderTickets } from "./revocations.ts";
import { RETRY_AFTER_S } from "./store.ts";
import type { TicketRecord } from "./tickets.ts";
import { mergeTrust, operatorTrusted, type TrustRecord } from "./trust.ts";

/**
 * Fork import: a theater leaves a cluster (or the cluster forks) with its backup, and a fresh
 * cluster takes it in. Tickets sold before the fork stay valid because the old cluster's public
 * keys become "former" trusted keys here (`trust/<oldClusterId>`, ./trust.ts), for that theater's
 * tickets only. Everything is written under the ids the backup carries, so importing twice changes
 * nothing. See docs/fork.md.
 */

// ---------------------------------------------------------------------------------------------
// Theater backup import.

/**
 * Largest backup body one request takes: under Vercel's 4.5 MB and Lambda's 6 MB request limits
 * (Workers take 100 MB). About 15,000 sold seats with their orders and tickets; a larger theater
 * needs an import split by event, which this endpoint does not do yet (docs/fork.md).
 */
export const IMPORT_BYTES_MAX = 4 * 1024 * 1024;
/** Changes in flight at once: enough to hide round trips, few enough not to crowd the peers. */
const WRITE_CONCURRENCY = 4;
/** Idempotency claims younger than this belong to a request presumed still running (409). */
const IMPORT_IN_FLIGHT_MS = 60_000;
/** Conflicts listed in a 409: a wrong target cluster would otherwise list every seat. */
const MAX_REPORTED_CONFLICTS = 100;

export type ImportKind =
  | "trust"
  | "plans"
  | "venues"
  | "seats"
  | "holds"
  | "orders"
  | "tickets"
  | "checkIns"
  | "events";
const KINDS: readonly ImportKind[] = [
  "trust",
  "plans",
  "venues",
  "seats",
  "holds",
  "orders",
  "tickets",
  "checkIns",
  "events",
];

export interface ImportSummary {
  importId: string;
  theaterId: string;
  fromCluster: string;
  /** Former clusters this theater's tickets are now trusted from. */
  trusted: string[];
  /** Per kind: records written now, and records that were already exactly so. */
  counts: Record<ImportKind, { created: number; unchanged: number }>;
  /** Seats the backup showed held: holds do not survive a fork, so they import as available. */
  heldSeatsReleased: number;
  /** Orders imported without a link to a buyer's account: their tickets are not signed by keys
   * this cluster's operators trust (TESSERA_TRUSTED_CLUSTERS). */
  buyerLinksWithheld: number;
  completedAt: string;
}

interface ImportClaim {
  readonly op: "theater-import";
  readonly hash: string;
  readonly id: string;
  readonly startedAtMs: number;
  /** What the request answered, once it finished: replayed to a retry with the same key. */
  readonly result?: ImportSummary;
}

/** A group of keys written in one change (a record with its index entries); like every change,
 * an interrupted one may land on some of its keys only (docs/quorum.md, "Multi-key changes"). */
interface Unit {
  kind: ImportKind;
  keys: string[];
  values: unknown[];
  /** Merge for records that may legitimately differ (trust lists more theaters); else equality. */
  merge?: (cur: unknown, want: unknown) => unknown | undefined;
}

export interface ImportIssue {
  code: string;
  path: string;
  detail: string;
}

export const refused = (title: string, report: unknown, detail: string) =>
  new ProblemError(422, "backup-refused", title, detail, { report });

/** Loose: backups carry the stored records as they are; only what the import relies on is checked. */
const BackupOrderRecord = z.looseObject({
  id: Id,
  theaterId: Id,
  eventId: Id,
  buyerId: z.string().min(1).max(255),
  createdAt: z.string(),
  holdId: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/)
    .optional(),
  seats: z.array(z.looseObject({ seatId: Id, sectionId: Id.optional() })).min(1),
});
type BackupOrderRecord = z.infer<typeof BackupOrderRecord>;

/** A verified backup of any readable version; a version 1 file reads as having no check-ins. */
export type ReadBackup = Omit<BackupFile, "formatVersion"> & { formatVersion: BackupFormatVersion };

/** The id of an import: the backup's header and section checksums, which pin all its content. */
export async function importIdOf(file: ReadBackup): Promise<string> {
  const {
    venues: _v,
    seatingPlans: _p,
    events: _e,
    seats: _s,
    orders: _o,
    tickets: _t,
    checkIns: _c,
    ...head
  } = file;
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalJson(head)));
  return `imp_${toBase64Url(new Uint8Array(d)).slice(0, 32)}`;
}

async function holdIdFor(orderId: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`import\n${orderId}`));
  return `hi_${toHex(new Uint8Array(d)).slice(0, 40)}`;
}

interface Planned {
  summary: Omit<ImportSummary, "counts" | "completedAt">;
  units: Unit[];
}

/**
 * Everything the import will write, checked against the domain schemas and against itself (a
 * seat of a plan the backup does not carry, a ticket for a seat not sold to its order). Any
 * problem refuses the whole backup (422) before a single write: a fork that silently drops a
 * sold seat would let the new cluster sell it again.
 */
async function planImport(s: Services, theaterId: string, file: ReadBackup): Promise<Planned> {
  const issues: ImportIssue[] = [];
  const d: Draft = {
    s,
    theaterId,
    file,
    units: [],
    add: (code, path, detail) => {
      if (issues.length < 1000) issues.push({ code, path, detail });
    },
  };
  checkOrigin(d);
  const read = readRecords(d);
  // Buyers: an order is linked to a buyer's account only when every ticket of it verifies under
  // keys this cluster's operators trust (operatorTrusted), never under keys the file carries (a
  // theater can make those up); the buyer is then the tickets' signed `hld`, not the order's
  // unsigned buyerId. Other orders and tickets are imported for the theater alone.
  const vouching = operatorTrusted(s);
  const vouchingIds = new Set(vouching.map((c) => c.clusterId));
  const { tickets, segOfOrder } = await linkBuyers(d, read, vouching, vouchingIds);

  const now = new Date(s.now()).toISOString();
  const trusted = trustUnits(d, vouching, vouchingIds, now);
  planAndVenueUnits(d, read);
  const { holdSeats, heldSeatsReleased } = await soldSeatUnits(d, read, segOfOrder);
  await orderUnits(d, read, segOfOrder, holdSeats);
  ticketUnits(d, read, tickets, segOfOrder);
  checkInUnits(d, read);
  // Events last: an event record makes its seats sellable, so it appears only once they are sold.
  eventUnits(d, read);

  if (issues.length > 0) {
    throw refused(
      "The backup cannot be imported",
      { issues },
      `${issues.length} problem(s); the first: ${issues[0]!.path}: ${issues[0]!.detail}`,
    );
  }
  return {
    summary: {
      importId: await importIdOf(file),
      theaterId,
      fromCluster: file.clusterId,
      trusted,
      heldSeatsReleased,
      buyerLinksWithheld: read.orders.size - segOfOrder.size,
    },
    units: d.units,
  };
}

/** A backup being planned: where its problems go, and the units planned so far, in write order. */
interface Draft {
  readonly s: Services;
  readonly theaterId: string;
  readonly file: ReadBackup;
  readonly units: Unit[];
  readonly add: (code: string, path: string, detail: string) => void;
}

/** The backup's records that passed their schemas, by id. */
interface BackupRecords {
  plans: Map<string, SeatingPlan>;
  venues: Venue[];
  events: Map<string, Event>;
  orders: Map<string, BackupOrderRecord>;
  /** The section of a seat in its event's plan; undefined when the plan has no such seat. */
  sectionOf: (eventId: string, seatId: string) => string | undefined;
}

/** A ticket of an order and event of the backup. */
interface BackupTicket {
  claims: TicketClaims;
  ticket: Ticket;
  path: string;
}

/** The backup must be of the caller's theater, and from another cluster. */
function checkOrigin({ s, theaterId, file, add }: Draft): void {
  if (file.theater.id !== theaterId) {
    add("theater", "$.theater.id", `backup of theater ${file.theater.id}, you are ${theaterId}`);
  }
  if (file.clusterId === s.deps.cluster.clusterId) {
    add("cluster", "$.clusterId", "backup of this very cluster: a fork import needs a new cluster");
  }
}

function readRecords(d: Draft): BackupRecords {
  const plans = readPlans(d);
  const sections = new Map<string, Map<string, string>>();
  for (const [id, plan] of plans) sections.set(id, seatSections(plan));
  const venues = readVenues(d);
  const events = readEvents(d, plans);
  const orders = readOrders(d, events);
  const sectionOf = (eventId: string, seatId: string): string | undefined => {
    const ev = events.get(eventId);
    return ev ? sections.get(ev.planId)?.get(seatId) : undefined;
  };
  return { plans, venues, events, orders, sectionOf };
}

/** Plans: stored chunked, exactly as an upload would be. */
function readPlans({ file, add }: Draft): Map<string, SeatingPlan> {
  const plans = new Map<string, SeatingPlan>();
  for (const [i, raw] of file.seatingPlans.entries()) {
    const { theaterId: _t, ...rest } = raw as Record<string, unknown>;
    const r = validatePlan(rest, { id: raw.id });
    if (!r.ok) {
      for (const e of r.errors) add("schema", `$.seatingPlans[${i}]${e.path}`, e.message);
      continue;
    }
    plans.set(r.plan.id, r.plan);
  }
  return plans;
}

function readVenues({ file, add }: Draft): Venue[] {
  const venues: Venue[] = [];
  for (const [i, raw] of file.venues.entries()) {
    const r = Venue.safeParse(raw);
    if (!r.success) add("schema", `$.venues[${i}]`, z.prettifyError(r.error));
    else venues.push(r.data);
  }
  return venues;
}

function readEvents({ file, add }: Draft, plans: Map<string, SeatingPlan>): Map<string, Event> {
  const events = new Map<string, Event>();
  for (const [i, raw] of file.events.entries()) {
    const r = Event.safeParse(raw);
    if (!r.success) add("schema", `$.events[${i}]`, z.prettifyError(r.error));
    else {
      events.set(r.data.id, r.data);
      if (!plans.has(r.data.planId)) {
        add("reference", `$.events[${i}].planId`, `plan ${r.data.planId} is not in the backup`);
      }
    }
  }
  return events;
}

/**
 * Every order must be of an event of the backup: an order naming another theater's event
 * would land in that event's order index, its revenue and its backups.
 */
function readOrders(
  { file, add }: Draft,
  events: Map<string, Event>,
): Map<string, BackupOrderRecord> {
  const orders = new Map<string, BackupOrderRecord>();
  for (const [i, raw] of file.orders.entries()) {
    const r = BackupOrderRecord.safeParse(raw);
    if (!r.success) add("schema", `$.orders[${i}]`, z.prettifyError(r.error));
    else if (!events.has(r.data.eventId)) {
      add("reference", `$.orders[${i}].eventId`, `event ${r.data.eventId} is not in the backup`);
    } else orders.set(r.data.id, r.data);
  }
  return orders;
}

/**
 * The backup's tickets, and the buyer segment of each order whose tickets all vouch for one
 * holder.
 */
async function linkBuyers(
  { s, theaterId, file, add }: Draft,
  { events, orders }: BackupRecords,
  vouching: TrustedCluster[],
  vouchingIds: Set<string>,
): Promise<{ tickets: BackupTicket[]; segOfOrder: Map<string, string> }> {
  const tickets: BackupTicket[] = [];
  const ticketsOfOrder = new Map<string, { hld: string; hiss: string; vouched: boolean }[]>();
  for (const [i, t] of file.tickets.entries()) {
    // verifyBackup (checkBackup) checked every ticket's claims against the schema.
    const claims = decodeClaims(t.payload);
    const path = `$.tickets[${i}]`;
    const order = orders.get(claims.ord);
    if (claims.thr !== theaterId || !events.has(claims.evt) || order?.eventId !== claims.evt) {
      add("reference", path, `ticket ${claims.tid}: not of an order and event of this backup`);
      continue;
    }
    tickets.push({ claims, ticket: t, path });
    // Signatures are checked only for clusters the operators list: no crypto for the rest.
    const vouched = vouchingIds.has(claims.cid) && (await verifyTicketWith(t, vouching)).valid;
    const of = ticketsOfOrder.get(claims.ord) ?? [];
    // Tickets from before holders named their issuer are taken to be of this cluster's.
    of.push({ hld: claims.hld, hiss: claims.hiss ?? s.buyerIds.issuer, vouched });
    ticketsOfOrder.set(claims.ord, of);
  }
  const segOfOrder = new Map<string, string>();
  for (const o of orders.values()) {
    const of = ticketsOfOrder.get(o.id) ?? [];
    const holders = new Set(of.map((x) => JSON.stringify([x.hiss, x.hld])));
    const first = of[0];
    if (first && of.every((x) => x.vouched) && holders.size === 1) {
      segOfOrder.set(o.id, await s.buyerIds.segment(first.hld, first.hiss));
    }
  }
  return { tickets, segOfOrder };
}

/** Trust: the backup's own cluster and every cluster it had forked from. Returns their ids. */
function trustUnits(
  { s, theaterId, file, units, add }: Draft,
  vouching: TrustedCluster[],
  vouchingIds: Set<string>,
  now: string,
): string[] {
  const trusted: string[] = [];
  for (const [i, keys] of [file.keys, ...(file.formerKeys ?? [])].entries()) {
    if (keys.clusterId === s.deps.cluster.clusterId) continue;
    // A cluster the operators know is known by its keys: a file naming it with other keys is
    // not from there (and its trust record would stand in the way of the theaters that are).
    const [own] = normalizeTrust(keys);
    if (vouchingIds.has(keys.clusterId) && !keysCoveredBy(own!, vouching)) {
      const path = i === 0 ? "$.keys" : `$.formerKeys[${i - 1}]`;
      add("keys", path, `not the keys this cluster's operators trust for ${keys.clusterId}`);
      continue;
    }
    trusted.push(keys.clusterId);
    const want: TrustRecord = {
      clusterId: keys.clusterId,
      keys,
      theaters: [theaterId],
      importedAt: now,
    };
    units.push({
      kind: "trust",
      keys: [trustKey(keys.clusterId)],
      values: [want],
      merge: (cur, w) => mergeTrust(cur as TrustRecord, w as TrustRecord),
    });
  }
  return trusted;
}

function planAndVenueUnits({ theaterId, units }: Draft, { plans, venues }: BackupRecords): void {
  for (const plan of plans.values()) {
    const { meta, chunks } = chunkPlan(plan, theaterId);
    // Chunks before the metadata: `plan/<pid>` is the plan's commit point (services/venues.ts).
    for (const c of chunks) units.push({ kind: "plans", keys: [c.key], values: [c.value] });
    units.push({
      kind: "plans",
      keys: [planKey(plan.id), theaterPlanKey(theaterId, plan.id)],
      values: [meta, meta],
    });
  }
  for (const v of venues) {
    units.push({ kind: "venues", keys: [venueKey(theaterId, v.id)], values: [v] });
  }
}

/** Seats sold, each with its hold record (the seat service's commit point of a sale). */
async function soldSeatUnits(
  { file, units, add }: Draft,
  { orders, sectionOf }: BackupRecords,
  segOfOrder: Map<string, string>,
): Promise<{
  holdSeats: Map<string, { holdId: string; seats: string[] }>;
  heldSeatsReleased: number;
}> {
  const holdSeats = new Map<string, { holdId: string; seats: string[] }>();
  let heldSeatsReleased = 0;
  for (const [i, seat] of file.seats.entries()) {
    if (seat.state === "held") heldSeatsReleased++;
    if (seat.state !== "sold") continue;
    const section = sectionOf(seat.eventId, seat.seatId);
    const order = orders.get(seat.orderId);
    if (section === undefined) {
      add(
        "reference",
        `$.seats[${i}]`,
        `seat ${seat.seatId} is not in event ${seat.eventId}'s plan`,
      );
      continue;
    }
    if (!order) continue; // verifyBackup reports unknown orders
    if (order.eventId !== seat.eventId) {
      add("reference", `$.seats[${i}]`, `seat ${seat.seatId} is sold to an order of another event`);
      continue;
    }
    const holdId = order.holdId ?? (await holdIdFor(order.id));
    const key = seatKey(seat.eventId, section, seat.seatId);
    const value: SeatValue = { state: "sold", orderId: order.id, holdId };
    units.push({ kind: "seats", keys: [key], values: [value] });
    const h = holdSeats.get(order.id) ?? { holdId, seats: [] };
    h.seats.push(key);
    holdSeats.set(order.id, h);
  }
  for (const [orderId, h] of holdSeats) {
    const hold: HoldRecord = {
      state: "sold",
      seats: [...h.seats].sort(),
      expiresAtMs: 0,
      caller: segOfOrder.get(orderId) ?? "",
      hash: "imported",
      orderId,
      confirm: { key: "imported", hash: "imported" },
    };
    units.push({ kind: "holds", keys: [holdKey(h.holdId)], values: [hold] });
  }
  return { holdSeats, heldSeatsReleased };
}

async function orderUnits(
  { units }: Draft,
  { orders }: BackupRecords,
  segOfOrder: Map<string, string>,
  holdSeats: Map<string, { holdId: string; seats: string[] }>,
): Promise<void> {
  for (const o of orders.values()) {
    const seg = segOfOrder.get(o.id);
    const entry = { orderId: o.id, eventId: o.eventId, createdAt: o.createdAt };
    const record = o.holdId
      ? o
      : { ...o, holdId: holdSeats.get(o.id)?.holdId ?? (await holdIdFor(o.id)) };
    const buyer = seg === undefined ? [] : [buyerOrderKey(seg, o.id)];
    units.push({
      kind: "orders",
      keys: [orderKey(o.id), ...buyer, eventOrderKey(o.eventId, o.id)],
      values: [record, ...buyer.map(() => entry), entry],
    });
  }
}

function ticketUnits(
  { units, add }: Draft,
  { sectionOf }: BackupRecords,
  tickets: BackupTicket[],
  segOfOrder: Map<string, string>,
): void {
  for (const t of tickets) {
    const section = sectionOf(t.claims.evt, t.claims.seat.id);
    if (section === undefined) {
      add("reference", t.path, `ticket ${t.claims.tid}: seat not in event ${t.claims.evt}'s plan`);
      continue;
    }
    const key = seatKey(t.claims.evt, section, t.claims.seat.id);
    // No holder for a ticket whose order is not linked: "" matches no buyer (QR, re-issue), and
    // the buyer may still link it with a ticket import once this cluster trusts its keys.
    const holderSeg = segOfOrder.get(t.claims.ord) ?? "";
    const record: TicketRecord = {
      ticket: { payload: t.ticket.payload, signatures: t.ticket.signatures },
      orderId: t.claims.ord,
      eventId: t.claims.evt,
      seatKey: key,
      holderSeg,
    };
    const entry = {
      ticketId: t.claims.tid,
      orderId: t.claims.ord,
      eventId: t.claims.evt,
      seatKey: key,
    };
    const buyer = holderSeg === "" ? [] : [buyerTicketKey(holderSeg, t.claims.tid)];
    units.push({
      kind: "tickets",
      keys: [ticketKey(t.claims.tid), ...buyer, eventTicketKey(t.claims.evt, t.claims.tid)],
      values: [record, ...buyer.map(() => entry), entry],
    });
  }
}

/**
 * Admitted seats stay admitted here: a fork must not let a used seat in a second time. Any
 * admission already stored for the seat stands (the seat is admitted either way).
 */
function checkInUnits({ theaterId, file, units, add }: Draft, { sectionOf }: BackupRecords): void {
  for (const [i, c] of file.checkIns.entries()) {
    if (sectionOf(c.eventId, c.seatId) === undefined) {
      add("reference", `$.checkIns[${i}]`, `seat ${c.seatId} is not in event ${c.eventId}'s plan`);
      continue;
    }
    const rec: AdmissionRecord = { ...c, theaterId, scan: "imported" };
    units.push({
      kind: "checkIns",
      keys: [eventAdmissionKey(c.eventId, c.seatId)],
      values: [rec],
      merge: (cur) => cur,
    });
  }
}

function eventUnits({ theaterId, units }: Draft, { events }: BackupRecords): void {
  for (const e of events.values()) {
    const entry = eventListEntry(e);
    units.push({
      kind: "events",
      keys: [eventKey(e.id), eventListKey(e.id), theaterEventKey(theaterId, e.id)],
      values: [e, entry, entry],
    });
  }
}

export const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/** What a unit needs given what the store holds: nothing, a write, or it conflicts. */
function judge(u: Unit, cur: readonly unknown[]): "same" | "write" | { conflict: string } {
  let write = false;
  for (const [j, key] of u.keys.entries()) {
    const c = cur[j] ?? null;
    const want = u.values[j];
    if (c === null) {
      write = true;
      continue;
    }
    if (u.merge) {
      const m = u.merge(c, want);
      if (m === undefined) return { conflict: key };
      if (!same(m, c)) write = true;
      continue;
    }
    if (!same(c, want)) return { conflict: key };
  }
  return write ? "write" : "same";
}

/** Packs units into changes of at most BATCH_KEYS_MAX keys, never splitting a unit. */
function batches(units: readonly Unit[]): Unit[][] {
  const out: Unit[][] = [];
  let cur: Unit[] = [];
  let n = 0;
  for (const u of units) {
    if (n + u.keys.length > BATCH_KEYS_MAX && cur.length > 0) {
      out.push(cur);
      cur = [];
      n = 0;
    }
    cur.push(u);
    n += u.keys.length;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/**
 * Writes what is missing, kind by kind in the order of KINDS (seats and holds before the events
 * that make them visible; plan chunks before plan metadata). Every change writes a unit only if
 * the store still holds nothing (or the same); a conflicting value appearing meanwhile aborts that
 * change, reported as 409. A crash part-way leaves records that a retry finds "unchanged".
 */
async function applyUnits(
  s: Services,
  units: readonly Unit[],
): Promise<Record<ImportKind, { created: number; unchanged: number }>> {
  const counts = Object.fromEntries(KINDS.map((k) => [k, { created: 0, unchanged: 0 }])) as Record<
    ImportKind,
    { created: number; unchanged: number }
  >;
  const conflicts: string[] = [];
  // Read everything first (quorum): refuse before writing anything when the cluster disagrees.
  const pending: Unit[] = [];
  for (const group of batches(units)) {
    const cur = await s.store.getMany<unknown>(group.flatMap((u) => u.keys));
    let off = 0;
    for (const u of group) {
      const v = judge(u, cur.slice(off, off + u.keys.length));
      off += u.keys.length;
      if (v === "same") counts[u.kind].unchanged++;
      else if (v === "write") pending.push(u);
      else if (conflicts.length < MAX_REPORTED_CONFLICTS) conflicts.push(v.conflict);
    }
  }
  if (conflicts.length > 0) throw conflictProblem(conflicts);

  for (const kind of KINDS) {
    // Plan metadata after all chunks of all plans: a batch boundary must not put it first.
    const ofKind = pending.filter((u) => u.kind === kind);
    const phases =
      kind === "plans"
        ? [ofKind.filter((u) => u.keys.length === 1), ofKind.filter((u) => u.keys.length > 1)]
        : [ofKind];
    for (const phase of phases) {
      await pool(batches(phase), WRITE_CONCURRENCY, async (group) => {
        const keys = group.flatMap((u) => u.keys);
        const r = await s.store.change<unknown>(keys, (cur) => {
          const out: unknown[] = [];
          let off = 0;
          for (const u of group) {
            const c = cur.slice(off, off + u.keys.length);
            off += u.keys.length;
            const v = judge(u, c);
            if (typeof v === "object") return { abort: v.conflict };
            u.keys.forEach((_, j) => {
              const have = c[j] ?? null;
              out.push(have === null ? u.values[j] : u.merge ? u.merge(have, u.values[j]) : have);
            });
          }
          return out;
        });
        if (!r.ok) throw conflictProblem([String(r.reason)]);
        for (const u of group) counts[u.kind].created++;
      });
    }
  }
  return counts;
}

const conflictProblem = (keys: readonly string[]) =>
  new ProblemError(
    409,
    "import-conflict",
    "This cluster already holds different records under the backup's ids",
    `${keys.length} record(s) differ, e.g. ${keys[0]}; nothing else was changed by this check`,
    { conflicts: keys },
  );

/** Parses and verifies a backup body; refuses (422) with the full report when it does not verify. */
export async function checkBackup(
  body: unknown,
): Promise<{ file: ReadBackup; report: BackupReport }> {
  const report = await verifyBackup(body);
  if (!report.ok) {
    const first = report.issues[0];
    throw refused(
      "The backup does not verify",
      report,
      first
        ? `${report.issues.length + report.omitted} problem(s); the first: ${first.path}: ${first.detail}`
        : "invalid backup",
    );
  }
  // verifyBackup checked every section and the header; the parse only narrows the type.
  const header = BackupHeader.parse(
    Object.fromEntries(
      Object.keys(BackupHeader.shape)
        .filter((k) => k in (body as object))
        .map((k) => [k, (body as Record<string, unknown>)[k]]),
    ),
  );
  const sections = body as BackupFile;
  return { file: { ...sections, ...header, checkIns: sections.checkIns ?? [] }, report };
}

/**
 * The whole import, idempotent twice over: the Idempotency-Key claim (same key + other body → 422,
 * same key while running → 409) and deterministic records (a second import of the same backup,
 * under any key, writes nothing and reports every record unchanged).
 */
export async function importBackup(
  s: Services,
  theaterId: string,
  idemKeyValue: string,
  body: unknown,
): Promise<{ summary: ImportSummary; replayed: boolean }> {
  const { file } = await checkBackup(body);
  const planned = await planImport(s, theaterId, file);
  const { importId } = planned.summary;
  const claimKey = theaterIdemKey(theaterId, idemKeyValue);
  const claim: ImportClaim = {
    op: "theater-import",
    hash: importId,
    id: importId,
    startedAtMs: s.now(),
  };
  const claimed = await s.store.change<ImportClaim>([claimKey], ([cur]) =>
    cur == null ? [claim] : { abort: cur },
  );
  if (!claimed.ok) {
    const prior = claimed.reason as ImportClaim;
    if (prior.op !== "theater-import" || prior.hash !== importId) {
      throw new ProblemError(
        422,
        "idempotency-key-reused",
        "Idempotency-Key reused",
        "this Idempotency-Key was already used for a different request; use a fresh key",
      );
    }
    if (prior.result) return { summary: prior.result, replayed: true };
    if (s.now() - prior.startedAtMs < IMPORT_IN_FLIGHT_MS) {
      throw new ProblemError(
        409,
        "request-in-flight",
        "The same import is still running",
        "a request with this Idempotency-Key started moments ago; retry shortly",
        {},
        { "retry-after": String(RETRY_AFTER_S) },
      );
    }
    // The first attempt died part-way: running it again completes it (every write is idempotent).
  }
  let counts: Awaited<ReturnType<typeof applyUnits>>;
  try {
    counts = await applyUnits(s, planned.units);
  } catch (e) {
    // A conflict is an answer, not a crash: free the key so the corrected request may reuse it.
    if (e instanceof ProblemError && e.problem.status === 409) {
      await s.store
        .change<ImportClaim>([claimKey], ([cur]) =>
          cur?.hash === importId ? [null] : { abort: "changed" },
        )
        .catch(() => undefined);
    }
    throw e;
  }
  await revokeRefunded(s, file);
  const summary: ImportSummary = {
    ...planned.summary,
    counts,
    completedAt: new Date(s.now()).toISOString(),
  };
  // The answer for retries of this request, and (first import only) the record of the import.
  await s.store.change<ImportClaim | ImportSummary>(
    [claimKey, importKey(theaterId, importId)],
    ([c, done]) => [{ ...(c as ImportClaim), result: summary }, done ?? summary],
  );
  return { summary, replayed: false };
}

/**
 * A refunded order's tickets stay revoked in the fork: this cluster's providers revoke them in its
 * own events' feeds, each signing only what the imported order, now committed here, yields (as
 * for a refund). Before the import answers, and again by every retry of it.
 */
async function revokeRefunded(s: Services, file: ReadBackup): Promise<void> {
  const refunded = file.orders.flatMap((o) =>
    (o as { status?: unknown }).status === "refunded" ? [o.id] : [],
  );
  await pool(refunded, WRITE_CONCURRENCY, async (id) => {
    const order = StoredOrder.safeParse(await s.store.read(orderKey(id))).data;
    if (order?.status === "refunded") await revokeOrderTickets(s, order, "refunded");
  });
}

export const isImportKind = (k: string): k is ImportKind =>
  (KINDS as readonly string[]).includes(k);
