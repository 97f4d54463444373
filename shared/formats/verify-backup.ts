import type { z } from "zod";
import { Sha256 } from "../crypto/sha256.ts";
import type { TicketClaims } from "../tickets/claims.ts";
import { verifyRevocationWith } from "../tickets/revocation.ts";
import {
  keysCoveredBy,
  normalizeTrust,
  type TrustedCluster,
  type TrustInput,
} from "../tickets/trust.ts";
import { verifyTicketWith } from "../tickets/verify.ts";
import {
  BACKUP_FORMAT,
  BACKUP_READABLE_VERSIONS,
  BackupHeader,
  type BackupSection,
  checksumsSchemaOf,
  elementLine,
  SECTION_SCHEMAS,
  sectionsOf,
} from "./backup.ts";

/**
 * Checks a parsed backup and reports EVERY problem found (up to MAX_REPORTED_ISSUES), element by
 * element, so a restore tool can show what is wrong and where: schema errors with their paths,
 * checksum mismatches per section, ticket signature failures, and references that do not add up
 * (a ticket for a seat the backup shows as not sold to that order, a seat of an unknown event).
 * Sections are validated one element at a time; no second copy of the file is built.
 */
export type BackupIssueCode =
  | "format"
  | "schema"
  | "checksum"
  | "ticket"
  | "revocation"
  | "reference"
  | "keys-mismatch";

export interface BackupIssue {
  code: BackupIssueCode;
  /** JSON path of the offending part, e.g. `seats[12].state`. */
  path: string;
  detail: string;
}

export interface BackupReport {
  ok: boolean;
  counts: Partial<Record<BackupSection, number>>;
  issues: BackupIssue[];
  /** Issues found beyond MAX_REPORTED_ISSUES. */
  omitted: number;
  keysSource: "self-supplied" | "trusted";
  tickets: { checked: number; valid: number; invalid: number };
  /** Tickets a revocation in the file revokes (co-signed, under the same keys as the tickets). */
  revoked: number;
}

export interface VerifyBackupOptions {
  /** Keys obtained independently of the file; the file's keys must be among them. */
  trusted?: TrustInput;
  /** Skip signature checks (e.g. a quick structural check); default true. */
  verifyTickets?: boolean;
}

/** A corrupt 100k-seat file would otherwise yield 100k identical lines. */
export const MAX_REPORTED_ISSUES = 1000;

const SEAT_KEY_SEP = "\u0000";

export async function verifyBackup(
  parsed: unknown,
  opts: VerifyBackupOptions = {},
): Promise<BackupReport> {
  const issues: BackupIssue[] = [];
  let omitted = 0;
  const add = (code: BackupIssueCode, path: string, detail: string) => {
    if (issues.length < MAX_REPORTED_ISSUES) issues.push({ code, path, detail });
    else omitted++;
  };
  const report = (): BackupReport => ({
    ok: issues.length === 0 && omitted === 0,
    counts,
    issues,
    omitted,
    keysSource: opts.trusted === undefined ? "self-supplied" : "trusted",
    tickets,
    revoked,
  });
  const counts: BackupReport["counts"] = {};
  const tickets = { checked: 0, valid: 0, invalid: 0 };
  let revoked = 0;

  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    add("format", "$", "not a JSON object");
    return report();
  }
  const file = parsed as Record<string, unknown>;
  const version = BACKUP_READABLE_VERSIONS.find((v) => v === file.formatVersion);
  if (file.format !== BACKUP_FORMAT || version === undefined) {
    const versions = BACKUP_READABLE_VERSIONS.map((v) => `v${v}`).join(" or ");
    add("format", "$.format", `not a ${BACKUP_FORMAT} ${versions} file`);
    return report();
  }
  const sections = sectionsOf(version);
  const header = readHeader(file, sections, add);
  const theaterId = header.success ? header.data.theater.id : undefined;
  const facts = readSections(file, sections, theaterId, counts, add);
  checkChecksums(file, version, sections, facts.computed, add);
  checkReferences(file, facts, add);

  // Tickets: quorum signatures, then whether the backup's own state backs them.
  if (header.success && opts.verifyTickets !== false && Array.isArray(file.tickets)) {
    const trusted = trustFor(header.data, opts.trusted, add);
    const gone = await checkRevocations(file.revocations, trusted, facts, add);
    revoked = gone.size;
    await checkTickets(file.tickets, header.data, trusted, facts, gone, tickets, add);
  }
  return report();
}

type AddIssue = (code: BackupIssueCode, path: string, detail: string) => void;
type Header = z.infer<typeof BackupHeader>;
type SeatState = { state: string; orderId?: string };
type BackupIds = { events: Set<string>; orders: Set<string> };

/** What the sections hold that the checks across sections need. */
interface SectionFacts {
  /** sha256 of each section's canonical lines. */
  computed: Partial<Record<BackupSection, string>>;
  ids: BackupIds;
  /** By "<event>\0<seat>". */
  seats: Map<string, SeatState>;
  checkIns: { path: string; eventId: string; seatId: string; orderId: string }[];
  /** Check-ins seen, by "<event>\0<seat>". */
  admitted: Set<string>;
}

/** Unknown members reported; the header members checked against their schema. */
function readHeader(
  file: Record<string, unknown>,
  sections: readonly BackupSection[],
  add: AddIssue,
): ReturnType<typeof BackupHeader.safeParse> {
  const known = new Set<string>([...Object.keys(BackupHeader.shape), ...sections, "checksums"]);
  for (const k of Object.keys(file)) {
    if (!known.has(k)) add("schema", `$.${k}`, "unknown member");
  }
  const headerInput = Object.fromEntries(
    Object.keys(BackupHeader.shape)
      .filter((k) => k in file)
      .map((k) => [k, file[k]]),
  );
  const header = BackupHeader.safeParse(headerInput);
  if (!header.success) addZodIssues(add, "$", header.error);
  return header;
}

/** Sections: schema per element, checksum over the canonical lines, ids for reference checks. */
function readSections(
  file: Record<string, unknown>,
  sections: readonly BackupSection[],
  theaterId: string | undefined,
  counts: BackupReport["counts"],
  add: AddIssue,
): SectionFacts {
  const facts: SectionFacts = {
    computed: {},
    ids: { events: new Set<string>(), orders: new Set<string>() },
    seats: new Map<string, SeatState>(),
    checkIns: [],
    admitted: new Set<string>(),
  };
  for (const section of sections) {
    const value = file[section];
    if (!Array.isArray(value)) {
      add("schema", `$.${section}`, "missing or not an array");
      continue;
    }
    counts[section] = value.length;
    const schema: z.ZodType = SECTION_SCHEMAS[section];
    const hash = new Sha256();
    for (const [i, el] of value.entries()) {
      const path = `$.${section}[${i}]`;
      try {
        hash.update(elementLine(el));
      } catch (e) {
        add("schema", path, (e as Error).message);
      }
      const r = schema.safeParse(el);
      if (!r.success) {
        addZodIssues(add, path, r.error);
        continue;
      }
      noteRecord(section, r.data as Record<string, unknown>, path, theaterId, facts, add);
    }
    facts.computed[section] = hash.hex();
  }
  return facts;
}

/** One schema-valid record: its theater, and what the reference checks need of it. */
function noteRecord(
  section: BackupSection,
  rec: Record<string, unknown>,
  path: string,
  theaterId: string | undefined,
  { ids, seats, checkIns, admitted }: SectionFacts,
  add: AddIssue,
): void {
  const ownsTheaterId = !(["seats", "tickets", "checkIns", "revocations"] as const).some(
    (x) => x === section,
  );
  if (ownsTheaterId && theaterId !== undefined) {
    if (rec.theaterId !== theaterId)
      add("reference", `${path}.theaterId`, "another theater's record");
  }
  if (section === "events") ids.events.add(rec.id as string);
  if (section === "orders") {
    ids.orders.add(rec.id as string);
    // Events come first in the file: an order of an event not in it is another theater's.
    if (rec.eventId !== undefined && !ids.events.has(rec.eventId as string))
      add(
        "reference",
        `${path}.eventId`,
        `order of event ${String(rec.eventId)}, not in the backup`,
      );
  }
  if (section === "seats") {
    const k = `${rec.eventId}${SEAT_KEY_SEP}${rec.seatId}`;
    if (seats.has(k)) add("reference", path, `seat ${rec.seatId} of ${rec.eventId} listed twice`);
    seats.set(k, {
      state: rec.state as string,
      ...(rec.orderId ? { orderId: rec.orderId as string } : {}),
    });
  }
  if (section === "checkIns") {
    const k = `${rec.eventId}${SEAT_KEY_SEP}${rec.seatId}`;
    if (admitted.has(k))
      add("reference", path, `seat ${rec.seatId} of ${rec.eventId} admitted twice`);
    admitted.add(k);
    checkIns.push({
      path,
      eventId: rec.eventId as string,
      seatId: rec.seatId as string,
      orderId: rec.orderId as string,
    });
  }
}

function checkChecksums(
  file: Record<string, unknown>,
  version: (typeof BACKUP_READABLE_VERSIONS)[number],
  sections: readonly BackupSection[],
  computed: SectionFacts["computed"],
  add: AddIssue,
): void {
  const sums = checksumsSchemaOf(version).safeParse(file.checksums);
  if (!sums.success) addZodIssues(add, "$.checksums", sums.error);
  else {
    for (const section of sections) {
      const c = computed[section];
      if (c !== undefined && c !== sums.data[section]) {
        add(
          "checksum",
          `$.checksums.${section}`,
          `sha256 of ${section} is ${c}, file says ${sums.data[section]}`,
        );
      }
    }
  }
}

/** Seat → event and sold seat → order references. */
function checkReferences(
  file: Record<string, unknown>,
  { ids, seats, checkIns }: SectionFacts,
  add: AddIssue,
): void {
  if (Array.isArray(file.events) && Array.isArray(file.orders)) {
    let i = 0;
    for (const [k, s] of seats) {
      const [eventId, seatId] = k.split(SEAT_KEY_SEP) as [string, string];
      if (!ids.events.has(eventId))
        add("reference", `$.seats[${i}]`, `seat ${seatId}: unknown event ${eventId}`);
      if (s.state === "sold" && s.orderId && !ids.orders.has(s.orderId)) {
        add("reference", `$.seats[${i}]`, `seat ${seatId} sold to unknown order ${s.orderId}`);
      }
      i++;
    }
    // A check-in may outlive its order's sale (a refund after entry), not its event or order.
    for (const c of checkIns) {
      if (!ids.events.has(c.eventId))
        add("reference", c.path, `check-in of seat ${c.seatId}: unknown event ${c.eventId}`);
      if (!ids.orders.has(c.orderId))
        add("reference", c.path, `check-in of seat ${c.seatId}: unknown order ${c.orderId}`);
    }
  }
}

/** The keys the signatures are checked against: the file's, or the caller's (which must cover
 * the file's). */
function trustFor(
  header: Header,
  trustedInput: TrustInput | undefined,
  add: AddIssue,
): TrustedCluster[] {
  const inFile = normalizeTrust([header.keys, ...(header.formerKeys ?? [])]);
  if (header.keys.clusterId !== header.clusterId) {
    add("keys-mismatch", "$.keys.clusterId", "differs from clusterId");
  }
  if (trustedInput === undefined) return inFile;
  const trusted = normalizeTrust(trustedInput);
  for (const c of inFile) {
    if (!keysCoveredBy(c, trusted)) {
      add("keys-mismatch", "$.keys", `keys of cluster ${c.clusterId} are not all trusted`);
    }
  }
  return trusted;
}

/** The ticket ids the file's revocations revoke; each must verify and name one of its events. */
async function checkRevocations(
  fileRevocations: unknown,
  trusted: readonly TrustedCluster[],
  { ids }: SectionFacts,
  add: AddIssue,
): Promise<Set<string>> {
  const gone = new Set<string>();
  if (!Array.isArray(fileRevocations)) return gone;
  for (const [i, r] of fileRevocations.entries()) {
    const path = `$.revocations[${i}]`;
    const v = await verifyRevocationWith(r, trusted);
    if (!v.valid) {
      add("revocation", path, v.reasons.map((x) => `${x.code}: ${x.detail}`).join("; "));
    } else if (!ids.events.has(v.claims.evt)) {
      add("reference", path, `revocation of ${v.claims.tid}: unknown event ${v.claims.evt}`);
    } else gone.add(v.claims.tid);
  }
  return gone;
}

/**
 * Each ticket's signatures (the file's keys or the caller's), then whether the backup backs it: a
 * revoked ticket's seat was given back, so it needs its event and order only.
 */
async function checkTickets(
  fileTickets: unknown[],
  header: Header,
  trusted: readonly TrustedCluster[],
  { ids, seats }: SectionFacts,
  revoked: ReadonlySet<string>,
  tickets: BackupReport["tickets"],
  add: AddIssue,
): Promise<void> {
  for (const [i, t] of fileTickets.entries()) {
    const path = `$.tickets[${i}]`;
    tickets.checked++;
    const r = await verifyTicketWith(t, trusted);
    if (!r.valid) {
      tickets.invalid++;
      add("ticket", path, r.reasons.map((x) => `${x.code}: ${x.detail}`).join("; "));
      continue;
    }
    tickets.valid++;
    checkTicketBacked(
      r.claims,
      path,
      header.theater.id,
      ids,
      revoked.has(r.claims.tid) ? null : seats,
      add,
    );
  }
}

function checkTicketBacked(
  c: TicketClaims,
  path: string,
  theaterId: string,
  ids: { events: Set<string>; orders: Set<string> },
  /** null: the ticket is revoked, and no seat backs it any more. */
  seats: Map<string, { state: string; orderId?: string }> | null,
  add: (code: BackupIssueCode, path: string, detail: string) => void,
): void {
  if (c.thr !== theaterId) add("reference", path, `ticket ${c.tid} is for theater ${c.thr}`);
  if (!ids.events.has(c.evt)) add("reference", path, `ticket ${c.tid}: unknown event ${c.evt}`);
  if (!ids.orders.has(c.ord)) add("reference", path, `ticket ${c.tid}: unknown order ${c.ord}`);
  if (seats === null) return;
  const s = seats.get(`${c.evt}${SEAT_KEY_SEP}${c.seat.id}`);
  if (s?.state !== "sold" || s.orderId !== c.ord) {
    add(
      "reference",
      path,
      `ticket ${c.tid}: seat ${c.seat.id} is not sold to order ${c.ord} in this backup`,
    );
  }
}

function addZodIssues(
  add: (code: BackupIssueCode, path: string, detail: string) => void,
  base: string,
  error: z.ZodError,
): void {
  for (const i of error.issues) {
    const path = i.path.reduce<string>(
      (p, s) => (typeof s === "number" ? `${p}[${s}]` : `${p}.${String(s)}`),
      base,
    );
    add("schema", path, i.message);
  }
}
