import type { ClusterConfig } from "../../shared/config.ts";
import { scanPrefix, trustKey } from "../../shared/domain/keys.ts";
import {
  type ClusterKeys,
  normalizeTrust,
  sameKeys,
  type TrustedCluster,
  toClusterKeys,
} from "../../shared/tickets/trust.ts";
import type { Services } from "./index.ts";

/**
 * Which clusters' signatures this cluster honours, and for whose tickets. A fork import writes the
 * trust records, but the door check, the buyer's ticket import, and backups and exports (which
 * carry `formerKeys` on to the next fork) all read them: trust is what the import leaves behind
 * for the rest of the service, so it lives apart from the import. A former cluster's keys vouch
 * only for the theaters that came from it. See docs/fork.md.
 */

/** `trust/<clusterId>`: a former cluster's keys, and the theaters that brought tickets from it. */
export interface TrustRecord {
  readonly clusterId: string;
  readonly keys: ClusterKeys;
  readonly theaters: readonly string[];
  readonly importedAt: string;
}

export function currentClusterKeys(cluster: ClusterConfig): ClusterKeys {
  return toClusterKeys(normalizeTrust(cluster)[0]!);
}

/**
 * The clusters whose tickets `theaterId` honours, for tickets naming `cids`: this cluster, plus
 * each former cluster that this theater imported from. A former cluster's keys never vouch for
 * another theater's tickets: a theater that did not come from there has no sales there to honour.
 * Quorum reads: a door must not refuse a ticket because its own store missed the trust record.
 */
export async function trustedFor(
  s: Services,
  cids: readonly string[],
  theaterId?: string,
): Promise<{ trusted: TrustedCluster[]; former: Map<string, TrustRecord> }> {
  const current = normalizeTrust(s.deps.cluster);
  const others = [...new Set(cids)].filter(
    (c) => c !== s.deps.cluster.clusterId && /^[a-z0-9][a-z0-9-]{2,62}$/.test(c),
  );
  const former = new Map<string, TrustRecord>();
  if (others.length > 0) {
    const recs = await s.store.getMany<TrustRecord>(others.map(trustKey));
    for (const r of recs) {
      if (r && (theaterId === undefined || r.theaters.includes(theaterId))) {
        former.set(r.clusterId, r);
      }
    }
  }
  const trusted = [...current, ...[...former.values()].flatMap((r) => normalizeTrust(r.keys))];
  return { trusted, former };
}

/**
 * The keys that may vouch for a buyer: this cluster's own, plus the former clusters its operators
 * listed (TESSERA_TRUSTED_CLUSTERS). Unlike trust records, which a theater's import writes from
 * the keys its backup carries, nothing here comes from an imported file; so only these grant
 * effects on buyers' accounts (order and ticket links), which a theater must not be able to cause
 * with keys it made up.
 */
export function operatorTrusted(s: Services): TrustedCluster[] {
  const own = s.deps.cluster.clusterId;
  const listed = (s.deps.settings.TESSERA_TRUSTED_CLUSTERS ?? []).filter(
    (c) => c.clusterId !== own,
  );
  return [...normalizeTrust(s.deps.cluster), ...listed];
}

export function mergeTrust(cur: TrustRecord, want: TrustRecord): TrustRecord | undefined {
  const a = normalizeTrust(cur.keys)[0]!;
  const b = normalizeTrust(want.keys)[0]!;
  if (!sameKeys(a, b)) return undefined;
  if (want.theaters.every((t) => cur.theaters.includes(t))) return cur;
  return { ...cur, theaters: [...new Set([...cur.theaters, ...want.theaters])].sort() };
}

/** Most former clusters a file lists (the backup and export formats' `formerKeys` bound). */
const FORMER_KEYS_MAX = 15;

/**
 * Former clusters' keys for a backup's or an export's `formerKeys` (all of them, or those a
 * theater imported from), so tickets sold before a fork still verify offline after the next one.
 * A local scan: trust records are few, written once, and a stale miss only omits a key list that
 * the next export includes.
 */
export async function formerKeysOf(s: Services, theaterId?: string): Promise<ClusterKeys[]> {
  const out: ClusterKeys[] = [];
  let cursor: string | undefined;
  do {
    const page = await s.store.localScan<TrustRecord>(scanPrefix.trust(), cursor ? { cursor } : {});
    for (const { value } of page.items) {
      if (theaterId === undefined || value.theaters.includes(theaterId)) out.push(value.keys);
    }
    cursor = page.cursor;
  } while (cursor !== undefined && out.length < FORMER_KEYS_MAX);
  return out.slice(0, FORMER_KEYS_MAX);
}
