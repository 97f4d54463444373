/**
 * Quorum arithmetic for a fixed cluster of three acceptors (one per cloud provider). A key's phase is
 * won once QUORUM acceptors said yes and lost once so many said no (or failed) that a quorum can no
 * longer be reached. Pure functions so that every decision the proposer takes can be unit-tested.
 */
export const ACCEPTOR_COUNT = 3;
/**
 * A majority of three: any two quorums share an acceptor, which is what makes Paxos safe. The one
 * "2 of 3" of the system: a ticket needs this many provider signatures (each provider signs only
 * what its own store shows as sold, so that many prove a quorum sold the seat), and the cluster
 * can write while this many stores answer.
 */
export const QUORUM = 2;

export type Tally = "pending" | "won" | "lost";

export function tally(
  yes: number,
  no: number,
  quorum: number = QUORUM,
  n: number = ACCEPTOR_COUNT,
): Tally {
  if (yes >= quorum) return "won";
  if (no > n - quorum) return "lost";
  return "pending";
}

/** Combined verdict of one phase over a batch of keys: won when every key is, lost when any is. */
export function tallyBatch(perKey: readonly Tally[]): Tally {
  let pending = false;
  for (const t of perKey) {
    if (t === "lost") return "lost";
    if (t === "pending") pending = true;
  }
  return pending ? "pending" : "won";
}
