import { z } from "zod";
import { ProviderId } from "../config.ts";
import { toHex } from "../crypto/sha256.ts";
import { canonicalBytes } from "../formats/canonical-json.ts";
import { isBallotString } from "../quorum/ballot.ts";

/**
 * One provider's append-only audit log: each entry names the hash of the one before it, so an
 * entry cannot be edited, removed or moved without breaking every later link. Each provider keeps
 * its own chain (no coordination needed to append) and periodically seals a segment with its key
 * (segment.ts); `crossCheck` then compares the three chains.
 *
 * Kinds in use (free-form, lowercase, so new kinds need no format change):
 *   accept       this provider's acceptor accepted `valueHash` for `key` at `ballot`
 *   commit       a proposer on this provider saw a quorum accept (key, ballot, valueHash)
 *   ticket-sign  this provider signed a ticket (`key` = ticket id, `valueHash` = payload hash)
 */
export const GENESIS_HASH = "0".repeat(64);

const Hash = z.string().regex(/^[0-9a-f]{64}$/, "lowercase hex SHA-256");
/** Storage keys are bounded by the stores (DynamoDB sort keys: 1 KiB); ours are far shorter. */
const KEY_MAX = 512;
/** Commit ids are proposer-chosen ids (ULID/UUID-sized); bounded to keep entries small. */
const COMMIT_ID_MAX = 128;

export const AuditEntry = z.strictObject({
  /** 1 for the first entry of a provider's log, then +1 per entry, no gaps. */
  seq: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** hashEntry of the previous entry; GENESIS_HASH for seq 1. */
  prevHash: Hash,
  /** Milliseconds since the Unix epoch, from the appending provider's clock (informational). */
  time: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  provider: ProviderId,
  kind: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
  key: z.string().max(KEY_MAX),
  /** Ballot string (shared/quorum/ballot.ts); "" when the kind has none. */
  ballot: z
    .string()
    .regex(/^(?:|[0-9]{16}\.[A-Za-z0-9_-]{1,64})$/, "ballot string")
    .refine(isBallotString, "not a ballot string"),
  /** hashValue of the value; "" for no value (a deletion, or a kind without one). */
  valueHash: z.union([Hash, z.literal("")]),
  /** Id of the write this entry belongs to, shared by all providers that log it; "" for none. */
  commitId: z.string().max(COMMIT_ID_MAX),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
export type AuditEntryData = Omit<AuditEntry, "seq" | "prevHash">;

/** Where a chain ends: enough to append without the last entry itself. */
export interface ChainHead {
  seq: number;
  hash: string;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource)));
}

/** SHA-256 (lowercase hex) of the entry's RFC 8785 canonical JSON. */
export async function hashEntry(entry: AuditEntry): Promise<string> {
  return sha256Hex(canonicalBytes(entry));
}

/** Hash to log for a stored value (the acceptor's JSON text); "" for null. */
export async function hashValue(value: string | Uint8Array | null): Promise<string> {
  if (value === null) return "";
  return sha256Hex(typeof value === "string" ? new TextEncoder().encode(value) : value);
}

export async function headOf(entry: AuditEntry): Promise<ChainHead> {
  return { seq: entry.seq, hash: await hashEntry(entry) };
}

/**
 * The next entry after `prev` (an entry, its head, or null for a new log). Throws when `data` is
 * not a valid entry or names another provider than the chain.
 */
export async function appendEntry(
  prev: AuditEntry | ChainHead | null,
  data: AuditEntryData,
): Promise<AuditEntry> {
  let seq = 1;
  let prevHash = GENESIS_HASH;
  if (prev && "prevHash" in prev) {
    if (prev.provider !== data.provider) {
      throw new RangeError(`log of ${prev.provider} cannot take an entry of ${data.provider}`);
    }
    seq = prev.seq + 1;
    prevHash = await hashEntry(prev);
  } else if (prev) {
    seq = prev.seq + 1;
    prevHash = prev.hash;
  }
  return AuditEntry.parse({ ...data, seq, prevHash });
}
