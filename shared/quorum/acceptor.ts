import { maxBallot } from "./ballot.ts";
import type {
  AcceptEntry,
  AcceptorRecord,
  AcceptReply,
  BallotString,
  PrepareReply,
} from "./messages.ts";

/**
 * The acceptor rules as pure functions over one record. Drivers that run JavaScript next to their
 * data (memory, Durable Objects) call these inside their per-key atomic section; drivers that
 * cannot (Redis Lua, DynamoDB conditions) re-state the same rules and are held to them by the
 * shared contract suite.
 */
export function applyPrepare(
  rec: AcceptorRecord,
  ballot: BallotString,
): { reply: PrepareReply; next: AcceptorRecord } {
  if (ballot <= rec.promised || ballot <= rec.accepted) {
    return {
      reply: { ok: false, key: rec.key, conflict: maxBallot(rec.promised, rec.accepted) },
      next: rec,
    };
  }
  return {
    reply: { ok: true, key: rec.key, accepted: rec.accepted, value: rec.value },
    next: { ...rec, promised: ballot },
  };
}

export function applyAccept(
  rec: AcceptorRecord,
  entry: AcceptEntry,
): { reply: AcceptReply; next: AcceptorRecord } {
  if (isStoredAccept(rec, entry)) return { reply: { ok: true, key: rec.key }, next: rec };
  // Refusing a ballot not above the accepted one (not only one below the promise) is what keeps a
  // stale proposer from overwriting a newer value it never saw.
  if (entry.ballot < rec.promised || entry.ballot <= rec.accepted) {
    return {
      reply: { ok: false, key: rec.key, conflict: maxBallot(rec.promised, rec.accepted) },
      next: rec,
    };
  }
  return {
    reply: { ok: true, key: rec.key },
    next: {
      key: rec.key,
      promised: maxBallot(entry.ballot, entry.next ?? ""),
      accepted: entry.ballot,
      value: entry.value,
    },
  };
}

/**
 * Whether `entry` is a repeat of the accept this record already holds: same ballot, same value.
 * Ballots are unique per proposer and a proposer sends one value per ballot, so this is a
 * duplicated delivery (a network or SDK retry) of an accept that was stored. It is acknowledged,
 * whatever has been promised since, and changes nothing: the ack is true ((ballot, value) is what
 * this acceptor holds), and a refusal would be indistinguishable from an accept that never landed.
 * The value is compared too so that a proposer breaking the one-value-per-ballot rule is refused
 * rather than told its different value was stored.
 */
export function isStoredAccept(rec: AcceptorRecord, entry: AcceptEntry): boolean {
  return entry.ballot !== "" && entry.ballot === rec.accepted && entry.value === rec.value;
}
