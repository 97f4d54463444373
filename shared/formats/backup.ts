import { z } from "zod";
import { Sha256 } from "../crypto/sha256.ts";
import { RevocationSchema } from "../tickets/revocation.ts";
import { TicketSchema } from "../tickets/sign.ts";
import { ClusterId, ClusterKeys } from "../tickets/trust.ts";
import { canonicalJson } from "./canonical-json.ts";

/**
 * The theater backup: everything a theater needs to leave the cluster (or rebuild after a fork)
 * in one JSON file that any tool can read. Layout, in this member order:
 *
 *   {"format":"tessera.backup","formatVersion":3,"clusterId":...,"theater":{...},"exportedAt":...,
 *    "keys":{...},["formerKeys":[...],]
 *    "venues":[...],"seatingPlans":[...],"events":[...],"seats":[...],"orders":[...],"tickets":[...],
 *    "checkIns":[...],"revocations":[...],"checksums":{"venues":"<sha256 hex>",...}}
 *
 * Version 2 is version 3 without `revocations` (the co-signed revocations of the theater's events'
 * feeds), version 1 is version 2 without `checkIns` (each with its checksum); readers accept all.
 *
 * Checksum of a section = SHA-256 over, for each element in order, its RFC 8785 canonical JSON
 * followed by "\n". The writer writes elements in exactly that form (one per line), so the digest
 * can be computed while streaming and recomputed from a parsed file whatever its formatting.
 * Checksums catch corruption and truncation; they are not signatures. Authenticity comes from the
 * tickets' own quorum signatures, checked against `keys` (ideally against keys you trust).
 */
export const BACKUP_FORMAT = "tessera.backup";
/** The version written; `BACKUP_READABLE_VERSIONS` are the versions read. */
export const BACKUP_FORMAT_VERSION = 3;
export const BACKUP_READABLE_VERSIONS = [1, 2, 3] as const;
export type BackupFormatVersion = (typeof BACKUP_READABLE_VERSIONS)[number];
export const BACKUP_SECTIONS = [
  "venues",
  "seatingPlans",
  "events",
  "seats",
  "orders",
  "tickets",
  "checkIns",
  "revocations",
] as const;
export type BackupSection = (typeof BACKUP_SECTIONS)[number];

/** The sections a file of `version` carries: version 2 predates `revocations`, 1 `checkIns`. */
export function sectionsOf(version: BackupFormatVersion): readonly BackupSection[] {
  const since: Partial<Record<BackupSection, BackupFormatVersion>> = {
    checkIns: 2,
    revocations: 3,
  };
  return BACKUP_SECTIONS.filter((s) => (since[s] ?? 1) <= version);
}

const Id = z.string().min(1).max(128);
const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "lowercase hex SHA-256");

/**
 * Domain records are typed by shared/domain (written in parallel); here they are permissive: the
 * ids the backup itself relies on are required, everything else is carried as is.
 */
const DomainRecord = z.looseObject({ id: Id, theaterId: Id });
export const BackupVenue = DomainRecord;
export const BackupSeatingPlan = DomainRecord;
export const BackupEvent = DomainRecord;
export const BackupOrder = DomainRecord;

const SeatBase = { eventId: Id, seatId: Id };
/** A sold seat names its order; a held one may name the order holding it; an available one none. */
export const BackupSeat = z.discriminatedUnion("state", [
  z.strictObject({ ...SeatBase, state: z.literal("available") }),
  z.strictObject({ ...SeatBase, state: z.literal("held"), orderId: Id.optional() }),
  z.strictObject({ ...SeatBase, state: z.literal("sold"), orderId: Id }),
]);
export type BackupSeat = z.infer<typeof BackupSeat>;

export const BackupTicket = TicketSchema;

/**
 * A seat of an event that was admitted at the door: admission is per seat, so after a fork neither
 * the ticket that used it nor any other ticket for it gets in again. `ticketId` and `orderId` say
 * what was admitted; the seat may since have been refunded, so neither is checked against `seats`.
 */
export const BackupCheckIn = z.strictObject({
  eventId: Id,
  seatId: Id,
  ticketId: Id,
  orderId: Id,
  at: z.iso.datetime({ offset: true }),
});
export type BackupCheckIn = z.infer<typeof BackupCheckIn>;

/** A co-signed revocation of a ticket of one of the theater's events (docs/tickets.md). */
export const BackupRevocation = RevocationSchema;
export type BackupRevocation = z.infer<typeof BackupRevocation>;

export const SECTION_SCHEMAS = {
  venues: BackupVenue,
  seatingPlans: BackupSeatingPlan,
  events: BackupEvent,
  seats: BackupSeat,
  orders: BackupOrder,
  tickets: BackupTicket,
  checkIns: BackupCheckIn,
  revocations: BackupRevocation,
} satisfies Record<BackupSection, z.ZodType>;

export const BackupHeader = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  formatVersion: z.union(BACKUP_READABLE_VERSIONS.map((v) => z.literal(v))),
  clusterId: ClusterId,
  theater: z.looseObject({ id: Id, name: z.string().min(1).max(200) }),
  exportedAt: z.iso.datetime({ offset: true }),
  /** The cluster's public keys: verify the tickets, also after the theater moved or forked. */
  keys: ClusterKeys,
  /** Keys of clusters this one forked from, for tickets sold before the fork. */
  formerKeys: z.array(ClusterKeys).max(15).optional(),
});
export type BackupHeader = z.infer<typeof BackupHeader>;

const checksumsOf = (sections: readonly BackupSection[]) =>
  z.strictObject(
    Object.fromEntries(sections.map((s) => [s, Sha256Hex])) as Record<
      BackupSection,
      typeof Sha256Hex
    >,
  );
export const BackupChecksums = checksumsOf(BACKUP_SECTIONS);
/** The checksums member a file of `version` carries. */
export const checksumsSchemaOf = (version: BackupFormatVersion) => checksumsOf(sectionsOf(version));

/** The file as written now (version 3); the JSON Schema in docs/formats is generated from it. */
export const BackupFile = BackupHeader.extend({
  formatVersion: z.literal(BACKUP_FORMAT_VERSION),
  venues: z.array(BackupVenue),
  seatingPlans: z.array(BackupSeatingPlan),
  events: z.array(BackupEvent),
  seats: z.array(BackupSeat),
  orders: z.array(BackupOrder),
  tickets: z.array(BackupTicket),
  checkIns: z.array(BackupCheckIn),
  revocations: z.array(BackupRevocation),
  checksums: BackupChecksums,
});
export type BackupFile = z.infer<typeof BackupFile>;

/** Pages as a store returns them (async or not); pages keep the writer's memory to one page. */
export type Pages<T> = AsyncIterable<readonly T[]> | Iterable<readonly T[]>;

export interface BackupSource {
  clusterId: string;
  theater: { id: string; name: string };
  /** ISO 8601; passed in because the pure core reads no clock. */
  exportedAt: string;
  keys: ClusterKeys;
  formerKeys?: ClusterKeys[];
  venues: Pages<z.input<typeof BackupVenue>>;
  seatingPlans: Pages<z.input<typeof BackupSeatingPlan>>;
  events: Pages<z.input<typeof BackupEvent>>;
  seats: Pages<BackupSeat>;
  orders: Pages<z.input<typeof BackupOrder>>;
  tickets: Pages<z.input<typeof BackupTicket>>;
  /** Seats admitted at the door; none when omitted. */
  checkIns?: Pages<BackupCheckIn>;
  /** The events' co-signed revocations; none when omitted. */
  revocations?: Pages<BackupRevocation>;
}

export class BackupWriteError extends Error {
  override name = "BackupWriteError";
}

/** The checksum form of one element: its canonical JSON line. */
export function elementLine(element: unknown): string {
  return `${canonicalJson(element)}\n`;
}

/**
 * Streams the backup as JSON text chunks (one per page, plus the framing), hashing each section
 * incrementally. Memory stays at one page whatever the theater's size. Elements are validated as
 * they pass: an invalid record aborts the backup rather than producing a file that fails to verify.
 */
export async function* writeBackup(source: BackupSource): AsyncGenerator<string> {
  const header = BackupHeader.safeParse({
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    clusterId: source.clusterId,
    theater: source.theater,
    exportedAt: source.exportedAt,
    keys: source.keys,
    ...(source.formerKeys ? { formerKeys: source.formerKeys } : {}),
  });
  if (!header.success) throw new BackupWriteError(`header: ${z.prettifyError(header.error)}`);
  const members = Object.entries(header.data).map(
    ([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`,
  );
  yield `{${members.join(",")},\n`;

  const checksums: Record<string, string> = {};
  for (const section of BACKUP_SECTIONS) {
    const schema: z.ZodType = SECTION_SCHEMAS[section];
    const hash = new Sha256();
    let index = 0;
    yield `${JSON.stringify(section)}:[`;
    for await (const page of (source[section] ?? []) as Pages<unknown>) {
      let chunk = "";
      for (const raw of page) {
        const r = schema.safeParse(raw);
        if (!r.success) {
          throw new BackupWriteError(`${section}[${index}]: ${z.prettifyError(r.error)}`);
        }
        const line = elementLine(r.data);
        hash.update(line);
        chunk += `${index === 0 ? "\n" : ",\n"}${line.slice(0, -1)}`;
        index++;
      }
      if (chunk) yield chunk;
    }
    yield index === 0 ? "],\n" : "\n],\n";
    checksums[section] = hash.hex();
  }
  yield `"checksums":${canonicalJson(checksums)}}\n`;
}
