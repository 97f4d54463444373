import { hashValue } from "../../shared/audit/entry.ts";
import type { AcceptEntry, AcceptReply } from "../../shared/quorum/messages.ts";
import { ForwardingAcceptor } from "../../shared/storage/forwarding.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { commitIdFor } from "./commit-id.ts";
import type { AuditLog, AuditRecord } from "./log.ts";

/**
 * The entry for one (key, ballot, value): an acceptor here accepted it (`accept`), or a proposer
 * here saw a quorum accept it (`commit`). Both name it by the same commit id, so the cross-check
 * lines a proposer's commit up with the accepts on the other providers' logs.
 */
export async function writeRecord(kind: "accept" | "commit", e: AcceptEntry): Promise<AuditRecord> {
  return {
    kind,
    key: e.key,
    ballot: e.ballot,
    valueHash: await hashValue(e.value),
    commitId: await commitIdFor(e.key, e.ballot),
  };
}

/**
 * A provider's acceptor, logging every accept it grants. Only accepts are logged: they are the
 * only calls that change a value, and each one is what a quorum is counted from. Promises
 * (prepare) change no value and would triple the log for nothing an auditor can check.
 *
 * The entry is chained after the store said yes and before the reply leaves, so an accept the
 * proposer counted is never missing from this instance's chain (only from an unsealed tail lost
 * with the instance; see docs/audit-log.md).
 */
export class AuditedAcceptor extends ForwardingAcceptor {
  constructor(
    inner: AcceptorPort,
    readonly log: AuditLog,
  ) {
    super(inner);
  }

  // Not logged: prepare (above) and deleteIf, which removes only a tombstone (null either way).
  override async accept(entries: readonly AcceptEntry[]): Promise<AcceptReply[]> {
    const replies = await this.inner.accept(entries);
    const records: AuditRecord[] = [];
    for (const [i, r] of replies.entries()) {
      const e = entries[i];
      if (!r.ok || !e || e.key !== r.key) continue;
      records.push(await writeRecord("accept", e));
    }
    await this.log.record(records);
    return replies;
  }
}
