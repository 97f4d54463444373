import { z } from "@hono/zod-openapi";
import {
  buyerOrderKey,
  buyerTicketKey,
  eventTicketKey,
  idemKey,
  orderKey,
  ticketKey,
} from "../../shared/domain/keys.ts";
import { requestHash } from "../../shared/seats/hash.ts";
import type { TicketClaims } from "../../shared/tickets/claims.ts";
import {
  type ExportVerification,
  TicketExport,
  verifyExport,
} from "../../shared/tickets/export.ts";
import type { Ticket } from "../../shared/tickets/sign.ts";
import { ProblemError } from "../problem.ts";
import { checkSeatSold } from "./door.ts";
import { refused, same } from "./import.ts";
import type { Services } from "./index.ts";
import type { TicketRecord } from "./tickets.ts";
import { operatorTrusted, trustedFor } from "./trust.ts";

/**
 * A buyer's side of a fork: the buyer brings the export taken on the old cluster, and its tickets
 * link to the buyer's account here, including any the theater's backup did not carry. The file is
 * the buyer's word only, so each ticket must verify against keys this cluster's operators trust
 * (./trust.ts operatorTrusted), come from a cluster its theater imported from, and name a seat this
 * cluster's quorum shows sold to its order (./door.ts).
 * See docs/fork.md.
 */

export interface BuyerImportResult {
  holder: string;
  fromCluster: string;
  linked: number;
  unchanged: number;
  refused: number;
  tickets: { tid: string; status: "linked" | "unchanged" | "refused"; reasons?: string[] }[];
}

interface BuyerImportClaim {
  readonly op: "ticket-import";
  readonly hash: string;
  readonly id: string;
  readonly startedAtMs: number;
}

/**
 * Links the tickets of a buyer's export (shared/tickets/export.ts) to the signed-in buyer: each
 * ticket must verify against this cluster's keys or the keys of a former cluster its theater
 * imported from, belong to this buyer, and name a seat this cluster's quorum shows sold to the
 * ticket's order. Linking writes deterministic keys, so a repeat links nothing new.
 */
export async function importBuyerTickets(
  s: Services,
  sub: string,
  idemKeyValue: string,
  body: unknown,
): Promise<{ result: BuyerImportResult; replayed: boolean }> {
  const { file, check, former } = await verifiedExport(s, sub, body);
  const seg = await s.buyerIds.segment(sub);
  const replayed = await claimImport(s, seg, idemKeyValue, file);
  const result: BuyerImportResult = {
    holder: sub,
    fromCluster: file.clusterId,
    linked: 0,
    unchanged: 0,
    refused: 0,
    tickets: [],
  };
  for (const t of check.tickets) {
    await importTicket(s, seg, file.tickets[t.index]!, t, former, result);
  }
  return { result, replayed };
}

type FormerClusters = Awaited<ReturnType<typeof trustedFor>>["former"];
type CheckedTicket = ExportVerification["tickets"][number];

/** The export, when it is the signed-in buyer's and, as a file, verifies under trusted keys. */
async function verifiedExport(
  s: Services,
  sub: string,
  body: unknown,
): Promise<{ file: TicketExport; check: ExportVerification; former: FormerClusters }> {
  const shape = TicketExport.safeParse(body);
  if (!shape.success) {
    throw refused(
      "The ticket export does not verify",
      { reasons: [{ code: "malformed", detail: z.prettifyError(shape.error) }] },
      "not a tessera.tickets file",
    );
  }
  const file = shape.data;
  if (file.holder !== sub) {
    throw new ProblemError(
      403,
      "not-your-tickets",
      "These tickets belong to another holder",
      "the export's holder is not the signed-in buyer",
    );
  }
  // Linking changes a buyer's account: only keys this cluster's operators trust may vouch for it,
  // not a former cluster's keys as some theater's backup supplied them (trust records).
  const cids = [file.clusterId, ...(file.formerKeys ?? []).map((k) => k.clusterId)];
  const { former } = await trustedFor(s, cids);
  const check = await verifyExport(file, { trusted: operatorTrusted(s) });
  const fileReasons = check.reasons.filter((r) => r.code !== "invalid-ticket");
  if (fileReasons.length > 0) {
    throw refused(
      "The ticket export does not verify",
      check,
      `${fileReasons[0]!.detail}${fileReasons[0]!.code === "keys-mismatch" ? " (do this cluster's operators trust the former cluster's keys, TESSERA_TRUSTED_CLUSTERS?)" : ""}`,
    );
  }
  return { file, check, former };
}

/**
 * Claims the Idempotency-Key for this export: true when it already was (a replay), 422 when it
 * was for another body.
 */
async function claimImport(
  s: Services,
  seg: string,
  idemKeyValue: string,
  file: TicketExport,
): Promise<boolean> {
  const hash = requestHash({ op: "ticket-import", body: file });
  const claimKey = idemKey(seg, idemKeyValue);
  const claim: BuyerImportClaim = { op: "ticket-import", hash, id: hash, startedAtMs: s.now() };
  const claimed = await s.store.change<BuyerImportClaim>([claimKey], ([cur]) =>
    cur == null ? [claim] : { abort: cur },
  );
  let replayed = false;
  if (!claimed.ok) {
    const prior = claimed.reason as BuyerImportClaim;
    if (prior.op !== "ticket-import" || prior.hash !== hash) {
      throw new ProblemError(
        422,
        "idempotency-key-reused",
        "Idempotency-Key reused",
        "this Idempotency-Key was already used for a different request; use a fresh key",
      );
    }
    replayed = true; // linking is idempotent: running it again reports the same links
  }
  return replayed;
}

/** Links one ticket of the export, or says why not, and counts it in `result`. */
async function importTicket(
  s: Services,
  seg: string,
  ticket: Ticket,
  t: CheckedTicket,
  former: FormerClusters,
  result: BuyerImportResult,
): Promise<void> {
  const tid = t.tid ?? `#${t.index}`;
  const reasons: string[] = [];
  if (!t.result.valid) reasons.push(...t.result.reasons.map((r) => `${r.code}: ${r.detail}`));
  const claims = t.result.valid ? t.result.claims : undefined;
  if (claims?.hiss !== undefined && !s.buyerIds.isOwn(claims.hiss)) {
    reasons.push(`holder-mismatch: the ticket's holder signed in with ${claims.hiss}`);
  }
  if (claims && claims.cid !== s.deps.cluster.clusterId) {
    if (!former.get(claims.cid)?.theaters.includes(claims.thr)) {
      reasons.push(`untrusted: theater ${claims.thr} did not bring its sales from ${claims.cid}`);
    }
  }
  let seatKey: string | undefined;
  if (claims && reasons.length === 0) {
    const sold = await checkSeatSold(s, claims);
    if (sold.ok) seatKey = sold.seatKey;
    else reasons.push(`${sold.code}: ${sold.detail}`);
  }
  if (!claims || seatKey === undefined || reasons.length > 0) {
    result.refused++;
    result.tickets.push({ tid, status: "refused", reasons });
    return;
  }
  const status = await linkTicket(s, seg, claims, ticket, seatKey);
  if (status === "refused") {
    result.refused++;
    result.tickets.push({
      tid,
      status,
      reasons: ["held-by-another: the ticket is another buyer's here"],
    });
  } else {
    result[status]++;
    result.tickets.push({ tid, status });
  }
}

async function linkTicket(
  s: Services,
  seg: string,
  claims: TicketClaims,
  ticket: Ticket,
  seatKey: string,
): Promise<"linked" | "unchanged" | "refused"> {
  const record: TicketRecord = {
    ticket: { payload: ticket.payload, signatures: ticket.signatures },
    orderId: claims.ord,
    eventId: claims.evt,
    seatKey,
    holderSeg: seg,
  };
  const entry = { ticketId: claims.tid, orderId: claims.ord, eventId: claims.evt, seatKey };
  const order = await s.store.get<{ createdAt?: string }>(orderKey(claims.ord));
  const keys = [
    ticketKey(claims.tid),
    buyerTicketKey(seg, claims.tid),
    eventTicketKey(claims.evt, claims.tid),
    ...(order ? [buyerOrderKey(seg, claims.ord)] : []),
  ];
  const orderEntry = order
    ? { orderId: claims.ord, eventId: claims.evt, createdAt: order.createdAt ?? "" }
    : undefined;
  const r = await s.store.change<unknown>(keys, (cur) => {
    const have = cur[0] as TicketRecord | null;
    // "": a theater's import stored the ticket without a holder (its keys were not vouched for).
    if (have && have.holderSeg !== seg && have.holderSeg !== "") return { abort: "refused" };
    const want = [
      have?.holderSeg === seg ? have : { ...(have ?? record), holderSeg: seg },
      cur[1] ?? entry,
      cur[2] ?? entry,
      ...(orderEntry ? [cur[3] ?? orderEntry] : []),
    ];
    if (cur.every((c, j) => c !== null && same(c, want[j]))) return { abort: "unchanged" };
    return want;
  });
  return r.ok ? "linked" : (r.reason as "unchanged" | "refused");
}
