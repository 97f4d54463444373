import { QUORUM } from "../quorum/tally.ts";
import {
  assembleRevocation,
  type Revocation,
  type RevocationClaims,
  type RevocationReason,
} from "./revocation.ts";
import type { TicketSignature } from "./sign.ts";

/**
 * An event's revocation feed as the stores keep it: fixed-size pages, one register each
 * (`revocations/<eventId>/<page>`), page p holding the entries numbered p·32+1 to p·32+32. An
 * entry's number is its place, so it never changes once written, and a reader resumes "since"
 * any number by starting at its page.
 *
 * Every append is a change of ONE page register: a change lands per key (docs/quorum.md,
 * "Multi-key changes"), so a change over two pages could leave numbers on one that the other
 * contradicts. An order whose tickets do not fit the page's room goes on in the next page's change.
 *
 * Pure: the functions here decide what a page becomes; functions/services/revocations.ts runs them.
 */

export const REVOCATION_PAGE_SIZE = 32;

/** A revocation to append: the entry's number is the page's to give. */
export interface RevocationWant {
  readonly tid: string;
  readonly ord: string;
  readonly rsn: RevocationReason;
  /** Unix seconds. */
  readonly rat: number;
}

export interface RevocationEntry extends RevocationWant {
  readonly seq: number;
  /** The providers' signatures over `claimsOfEntry`, once collected; [] until then. */
  readonly signatures: readonly TicketSignature[];
}

export interface RevocationPage {
  readonly entries: readonly RevocationEntry[];
}

export const pageOfSeq = (seq: number) => Math.floor((seq - 1) / REVOCATION_PAGE_SIZE);

export type AppendOutcome = readonly [RevocationPage] | { readonly abort: "full" };

/**
 * Appends to page `page` those of `want` it does not list yet, as many as it has room for. A page
 * that is full aborts "full", writing nothing: the caller goes on with the next page. Deterministic,
 * so a re-run over its own earlier effect finds every ticket listed and adds nothing.
 */
export function appendToPage(page: number, want: readonly RevocationWant[]) {
  return (cur: readonly (RevocationPage | null)[]): AppendOutcome => {
    const entries = [...(cur[0]?.entries ?? [])];
    const listed = new Set(entries.map((e) => e.tid));
    const fresh = want.filter((w) => !listed.has(w.tid));
    if (fresh.length === 0) return [{ entries }];
    if (entries.length >= REVOCATION_PAGE_SIZE) return { abort: "full" };
    for (const w of fresh.slice(0, REVOCATION_PAGE_SIZE - entries.length)) {
      const seq = page * REVOCATION_PAGE_SIZE + entries.length + 1;
      entries.push({ tid: w.tid, ord: w.ord, rsn: w.rsn, rat: w.rat, seq, signatures: [] });
    }
    return [{ entries }];
  };
}

/**
 * Stores the signatures collected for entry `seq` (of ticket `tid`), unless the page already keeps
 * at least as many for it. Nothing else on the page changes.
 */
export function attachSignatures(seq: number, tid: string, signatures: readonly TicketSignature[]) {
  return (cur: readonly (RevocationPage | null)[]): readonly [RevocationPage | null] => {
    const page = cur[0] ?? null;
    if (page === null) return [page];
    const entries = page.entries.map((e) =>
      e.seq === seq && e.tid === tid && e.signatures.length < signatures.length
        ? { ...e, signatures: [...signatures] }
        : e,
    );
    return [{ entries }];
  };
}

/** The entry as a co-signed revocation, once it carries a quorum of signatures. */
export function signedRevocation(
  cid: string,
  evt: string,
  e: RevocationEntry,
): Revocation | undefined {
  return e.signatures.length >= QUORUM
    ? assembleRevocation(claimsOfEntry(cid, evt, e), e.signatures)
    : undefined;
}

/** The claims an entry stands for, in cluster `cid` and event `evt`. */
export function claimsOfEntry(cid: string, evt: string, e: RevocationEntry): RevocationClaims {
  return { tid: e.tid, cid, evt, seq: e.seq, rsn: e.rsn, rat: e.rat };
}
