import { GENESIS_HASH } from "./entry.ts";
import type { SegmentHead } from "./segment.ts";

/**
 * A provider runs many instances at once (Workers isolates, Lambda containers), and each keeps its
 * own chain ("stream"): one chain head per provider would make every write of every instance wait
 * for one lock. A provider's log is therefore a set of chains, each starting at seq 1 from
 * GENESIS_HASH. Segments carry no stream name (the signed head is provider, seqs and hashes), so
 * they are grouped by what they prove: a segment belongs after the one whose `lastHash` it names.
 *
 * Problems reported (by the segment's index in the input):
 *   - a segment that continues no segment in hand (an earlier segment of its chain is missing);
 *   - two segments continuing the same segment (the provider forked one of its chains);
 *   - segments of another provider in the same set.
 * What linking cannot show: a whole chain left out (nothing points at a chain's last segment).
 * The cross-check against the other providers' logs covers that: writes they logged and this
 * provider did not show up as `single`.
 */
export interface LinkedSegments {
  /** Chains as lists of input indices, each in seq order; chains ordered by first index. */
  chains: number[][];
  problems: string[];
}

export function linkSegments(heads: readonly SegmentHead[]): LinkedSegments {
  const problems: string[] = [];
  const provider = heads[0]?.provider;
  const order = heads
    .map((h, i) => ({ h, i }))
    .sort((a, b) => a.h.fromSeq - b.h.fromSeq || a.i - b.i);
  const chains: number[][] = [];
  /** Tail of each open chain by its `lastHash` and `toSeq`, so a continuation is a map lookup. */
  const tails = new Map<string, number>();
  const taken = new Set<string>();
  for (const { h, i } of order) {
    if (h.provider !== provider) {
      problems.push(`segment ${i}: provider ${h.provider} among ${provider}'s segments`);
      continue;
    }
    const startsChain = h.fromSeq === 1 && h.firstPrevHash === GENESIS_HASH;
    const link = `${h.fromSeq - 1}:${h.firstPrevHash}`;
    const chainIdx = startsChain ? undefined : tails.get(link);
    if (!startsChain && chainIdx === undefined) {
      problems.push(
        taken.has(link)
          ? `segment ${i}: continues a segment another segment already continues (forked chain)`
          : `segment ${i}: does not continue any segment in hand (seq ${h.fromSeq}; an earlier segment is missing)`,
      );
      continue;
    }
    let chain: number[];
    if (chainIdx === undefined) {
      chain = [];
      chains.push(chain);
    } else {
      chain = chains[chainIdx]!;
      tails.delete(link);
      taken.add(link);
    }
    chain.push(i);
    tails.set(`${h.toSeq}:${h.lastHash}`, chains.indexOf(chain));
  }
  chains.sort((a, b) => a[0]! - b[0]!);
  return { chains, problems };
}
