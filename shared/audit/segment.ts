import { z } from "zod";
import { type PrivateJwk, ProviderId } from "../config.ts";
import { toBase64Url } from "../crypto/base64.ts";
import { decodeProviderHeader, signDetached, verifyDetached } from "../crypto/jws.ts";
import { canonicalBytes } from "../formats/canonical-json.ts";
import { normalizeTrust, type TrustInput } from "../tickets/trust.ts";
import { type ChainReport, verifyChain } from "./chain.ts";
import type { AuditEntry } from "./entry.ts";

/**
 * A sealed segment: a run of one provider's log plus that provider's signature over the segment's
 * head (provider, seq range, the hash it continues from, the hash it ends with). The chain binds
 * every entry to `lastHash`, so signing the head signs the entries, and the signed `toSeq` and
 * `lastHash` catch what a bare chain cannot: a truncated tail or an edited last entry.
 *
 * `signature` is a JWS with detached payload (RFC 7515 Appendix F) in compact form,
 * `<protected>..<signature>`; the payload is the canonical JSON of the head.
 */
export const SEGMENT_TYP = "tessera.audit-segment+jws";
/** Bounds verification work for a file handed to us; a provider seals far more often than this. */
export const MAX_SEGMENT_ENTRIES = 1_000_000;

const Hash = z.string().regex(/^[0-9a-f]{64}$/);
export const SegmentHead = z.strictObject({
  provider: ProviderId,
  fromSeq: z.int().min(1),
  toSeq: z.int().min(1),
  firstPrevHash: Hash,
  lastHash: Hash,
});
export type SegmentHead = z.infer<typeof SegmentHead>;

export const SealedSegment = z.strictObject({
  segment: SegmentHead.extend({
    // Entries are checked one by one by verifyChain, which reports each problem with its index.
    entries: z.array(z.unknown()).min(1).max(MAX_SEGMENT_ENTRIES),
  }),
  signature: z.string().regex(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/, "compact detached JWS"),
});
export interface SealedSegment {
  segment: SegmentHead & { entries: AuditEntry[] };
  signature: string;
}

function headPayload(h: SegmentHead): Uint8Array {
  const { provider, fromSeq, toSeq, firstPrevHash, lastHash } = h;
  return canonicalBytes({ provider, fromSeq, toSeq, firstPrevHash, lastHash });
}

/** Seals `entries` (a valid run of one provider's chain) with that provider's key. */
export async function sealSegment(
  entries: readonly AuditEntry[],
  providerKey: PrivateJwk,
): Promise<SealedSegment> {
  const first = entries[0];
  const last = entries[entries.length - 1];
  if (!first || !last) throw new RangeError("cannot seal an empty segment");
  const chain = await verifyChain(entries, { firstPrevHash: first.prevHash });
  if (!chain.ok || chain.lastHash === undefined) {
    throw new RangeError(`refusing to seal a broken chain: ${chain.firstBreak?.detail}`);
  }
  const head: SegmentHead = {
    provider: first.provider,
    fromSeq: first.seq,
    toSeq: last.seq,
    firstPrevHash: first.prevHash,
    lastHash: chain.lastHash,
  };
  const sig = await signDetached(headPayload(head), providerKey, head.provider, SEGMENT_TYP);
  return {
    segment: { ...head, entries: [...entries] },
    signature: `${sig.protected}..${sig.signature}`,
  };
}

export type SegmentProblemCode = "malformed" | "head-mismatch" | "bad-signature" | "unknown-key";

export interface SegmentReport {
  ok: boolean;
  /** "unchecked" when no keys were given: only the chain and head were checked. */
  signature: "valid" | "invalid" | "unknown-key" | "unchecked";
  provider?: ProviderId;
  kid?: string;
  head?: SegmentHead;
  chain?: ChainReport;
  problems: { code: SegmentProblemCode; detail: string }[];
}

export async function verifySegment(sealed: unknown, keys?: TrustInput): Promise<SegmentReport> {
  const parsed = SealedSegment.safeParse(sealed);
  if (!parsed.success) {
    return {
      ok: false,
      signature: keys === undefined ? "unchecked" : "invalid",
      problems: [{ code: "malformed", detail: z.prettifyError(parsed.error) }],
    };
  }
  const { entries, ...head } = parsed.data.segment;
  const problems: SegmentReport["problems"] = [];
  const chain = await verifyChain(entries, {
    firstPrevHash: head.firstPrevHash,
    fromSeq: head.fromSeq,
  });
  const last = entries[entries.length - 1] as { seq?: unknown; provider?: unknown };
  if (last.seq !== head.toSeq) {
    problems.push({
      code: "head-mismatch",
      detail: `last entry seq ${String(last.seq)}, head says ${head.toSeq}`,
    });
  }
  if (chain.lastHash !== head.lastHash) {
    problems.push({
      code: "head-mismatch",
      detail: "last entry hash differs from the sealed lastHash",
    });
  }
  if (entries.some((e) => (e as { provider?: unknown }).provider !== head.provider)) {
    problems.push({ code: "head-mismatch", detail: `entries not all from ${head.provider}` });
  }

  let signature: SegmentReport["signature"] = "unchecked";
  let kid: string | undefined;
  if (keys !== undefined) {
    const [prot, , sig] = parsed.data.signature.split(".") as [string, string, string];
    const h = decodeProviderHeader(prot);
    kid = h?.kid;
    if (!h || h.typ !== SEGMENT_TYP || h.tessera_provider !== head.provider) {
      signature = "invalid";
      problems.push({ code: "bad-signature", detail: "not a segment signature of this provider" });
    } else {
      const key = normalizeTrust(keys)
        .flatMap((c) => c.providers[head.provider])
        .find((k) => k.kid === h.kid);
      if (!key) {
        signature = "unknown-key";
        problems.push({
          code: "unknown-key",
          detail: `${head.provider} key "${h.kid}" is not trusted`,
        });
      } else if (
        await verifyDetached(
          toBase64Url(headPayload(head)),
          { protected: prot, signature: sig },
          key,
        )
      ) {
        signature = "valid";
      } else {
        signature = "invalid";
        problems.push({ code: "bad-signature", detail: "signature does not verify over the head" });
      }
    }
  }
  const report: SegmentReport = {
    ok: problems.length === 0 && chain.ok,
    signature,
    provider: head.provider,
    head,
    chain,
    problems,
  };
  if (kid !== undefined) report.kid = kid;
  return report;
}

/** Breaks between consecutive segments of one provider (each must continue the previous one). */
export function segmentGaps(heads: readonly SegmentHead[]): string[] {
  const gaps: string[] = [];
  for (let i = 1; i < heads.length; i++) {
    const [a, b] = [heads[i - 1]!, heads[i]!];
    if (b.provider !== a.provider)
      gaps.push(`segment ${i}: provider ${b.provider} after ${a.provider}`);
    else if (b.fromSeq !== a.toSeq + 1 || b.firstPrevHash !== a.lastHash) {
      gaps.push(`segment ${i}: does not continue segment ${i - 1} (seq ${a.toSeq} → ${b.fromSeq})`);
    }
  }
  return gaps;
}
