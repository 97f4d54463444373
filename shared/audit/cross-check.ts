import type { ProviderId } from "../config.ts";
import { QUORUM } from "../quorum/tally.ts";
import type { AuditEntry } from "./entry.ts";

/**
 * Compares the providers' logs write by write. Every entry with a commitId says "for this write I
 * saw (key, ballot, valueHash)". For each commitId:
 *   agreed    two or more providers logged it, all with the same (key, ballot, valueHash): the
 *             write reached a quorum as the logs tell it.
 *   single    only one provider logged it. NOT necessarily an error: an acceptor may accept a value
 *             that never reaches a quorum (the proposer lost a race; a later ballot chose another
 *             value), or the other providers' segments covering it are not in hand yet. It is
 *             worth a look when it persists across later segments, or when the one log says
 *             "commit" (a proposer claiming a quorum no other acceptor logged).
 *   conflict  entries under the same commitId disagree on (key, ballot, valueHash): a provider's
 *             log, or a proposer, is wrong. Always an error.
 * Independently, two different values logged for the same (key, ballot) is a `ballotConflicts`
 * entry: in CASPaxos a ballot proposes exactly one value, so this is a safety violation.
 */
export interface CommitVariant {
  key: string;
  ballot: string;
  valueHash: string;
  providers: ProviderId[];
}

export interface CommitCheck {
  commitId: string;
  providers: ProviderId[];
  status: "agreed" | "single" | "conflict";
  /** Kinds seen (accept, commit...), for telling an unchosen accept from an unbacked commit. */
  kinds: string[];
  variants: CommitVariant[];
}

export interface CrossCheckReport {
  commits: CommitCheck[];
  agreed: number;
  single: number;
  conflicts: number;
  ballotConflicts: {
    key: string;
    ballot: string;
    variants: { valueHash: string; providers: ProviderId[] }[];
  }[];
  /** Entries filed under a provider they do not belong to. */
  misfiled: { provider: string; seq: number; entryProvider: ProviderId }[];
}

export function crossCheck(
  logsByProvider: Partial<Record<ProviderId, readonly AuditEntry[]>>,
): CrossCheckReport {
  const byCommit = new Map<string, { kinds: Set<string>; variants: Map<string, CommitVariant> }>();
  const byBallot = new Map<string, Map<string, Set<ProviderId>>>();
  const misfiled: CrossCheckReport["misfiled"] = [];

  for (const [provider, entries] of Object.entries(logsByProvider) as [
    ProviderId,
    AuditEntry[],
  ][]) {
    for (const e of entries) {
      if (e.provider !== provider) {
        misfiled.push({ provider, seq: e.seq, entryProvider: e.provider });
        continue;
      }
      if (e.ballot !== "") {
        const bk = JSON.stringify([e.key, e.ballot]);
        const values = byBallot.get(bk) ?? new Map<string, Set<ProviderId>>();
        byBallot.set(bk, values);
        const ps = values.get(e.valueHash) ?? new Set<ProviderId>();
        values.set(e.valueHash, ps.add(provider));
      }
      if (e.commitId === "") continue;
      const c = byCommit.get(e.commitId) ?? { kinds: new Set<string>(), variants: new Map() };
      byCommit.set(e.commitId, c);
      c.kinds.add(e.kind);
      const vk = JSON.stringify([e.key, e.ballot, e.valueHash]);
      const v = c.variants.get(vk) ?? {
        key: e.key,
        ballot: e.ballot,
        valueHash: e.valueHash,
        providers: [],
      };
      if (!v.providers.includes(provider)) v.providers.push(provider);
      c.variants.set(vk, v);
    }
  }

  const commits: CommitCheck[] = [...byCommit.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([commitId, c]) => {
      const variants = [...c.variants.values()];
      const providers = [...new Set(variants.flatMap((v) => v.providers))];
      const status: CommitCheck["status"] =
        variants.length > 1 ? "conflict" : providers.length >= QUORUM ? "agreed" : "single";
      return { commitId, providers, status, kinds: [...c.kinds].sort(), variants };
    });

  const ballotConflicts: CrossCheckReport["ballotConflicts"] = [];
  for (const [bk, values] of byBallot) {
    if (values.size < 2) continue;
    const [key, ballot] = JSON.parse(bk) as [string, string];
    ballotConflicts.push({
      key,
      ballot,
      variants: [...values].map(([valueHash, ps]) => ({ valueHash, providers: [...ps] })),
    });
  }

  return {
    commits,
    agreed: commits.filter((c) => c.status === "agreed").length,
    single: commits.filter((c) => c.status === "single").length,
    conflicts: commits.filter((c) => c.status === "conflict").length,
    ballotConflicts,
    misfiled,
  };
}
