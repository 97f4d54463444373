import { type AuditEntry, appendEntry, hashValue } from "../../shared/audit/entry.ts";
import type { ProviderId } from "../../shared/config.ts";
import { encodeBallot } from "../../shared/quorum/ballot.ts";

/** A provider's log of `n` accepted writes, commit ids c1..cn, one key per write. */
export async function makeLog(provider: ProviderId, n: number, t0 = 1_767_225_600_000) {
  const entries: AuditEntry[] = [];
  let prev: AuditEntry | null = null;
  for (let i = 1; i <= n; i++) {
    prev = await appendEntry(prev, {
      time: t0 + i,
      provider,
      kind: "accept",
      key: `seat/evt1/S${i}`,
      ballot: encodeBallot({ counter: i, proposer: "vercel" }),
      valueHash: await hashValue(JSON.stringify({ state: "sold", order: `o${i}` })),
      commitId: `c${i}`,
    });
    entries.push(prev);
  }
  return entries;
}
