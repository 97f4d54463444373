import { z } from "zod";
import { Ed25519PublicJwk, PROVIDERS, type ProviderId, type PublicJwk } from "../config.ts";

/**
 * The public keys a verifier trusts: per cluster, per provider, a list (several during a key
 * rotation). A verifier may trust several clusters: after a fork, the new cluster keeps the old
 * cluster's keys in its trust list so that tickets sold before the fork stay valid.
 *
 * Accepted inputs (normalized by `normalizeTrust`):
 *   - `{clusterId, providers: {cloudflare: [jwk...], vercel: [...], aws: [...]}}` (ClusterKeys)
 *   - the same with a single jwk per provider instead of a list
 *   - a ClusterConfig (`providers.<p>.publicJwk`, urls ignored)
 *   - `{trusted: [any of the above]}` or a bare array of them
 */

export const ClusterId = z
  .string()
  .max(63)
  .regex(/^[a-z0-9][a-z0-9-]{2,62}$/, "lowercase id, 3-63 chars");

/** A provider listed with no key cannot sign; at most a handful of keys overlap in a rotation. */
const MAX_KEYS_PER_PROVIDER = 8;
/** One current cluster plus the ones it forked from; more is a configuration mistake. */
export const MAX_TRUSTED_CLUSTERS = 16;

export const ClusterKeys = z.object({
  clusterId: ClusterId,
  providers: z.object(
    Object.fromEntries(
      PROVIDERS.map((p) => [p, z.array(Ed25519PublicJwk).min(1).max(MAX_KEYS_PER_PROVIDER)]),
    ) as Record<ProviderId, z.ZodArray<typeof Ed25519PublicJwk>>,
  ),
});
export type ClusterKeys = z.infer<typeof ClusterKeys>;

/** Normalized, as the verifiers use it. */
export interface TrustedCluster {
  clusterId: string;
  providers: Record<ProviderId, PublicJwk[]>;
}

export type TrustInput = unknown;

export class TrustError extends TypeError {
  override name = "TrustError";
}

const LooseProviderKeys = z.union([
  z.array(Ed25519PublicJwk).min(1).max(MAX_KEYS_PER_PROVIDER),
  Ed25519PublicJwk.transform((k) => [k]),
  z
    .object({ publicJwk: Ed25519PublicJwk, publicJwks: z.array(Ed25519PublicJwk).optional() })
    .transform((p) => dedupe([p.publicJwk, ...(p.publicJwks ?? [])])),
]);

const LooseCluster = z
  .object({
    clusterId: ClusterId,
    providers: z.object(
      Object.fromEntries(PROVIDERS.map((p) => [p, LooseProviderKeys])) as Record<
        ProviderId,
        typeof LooseProviderKeys
      >,
    ),
  })
  .transform((c): TrustedCluster => ({ clusterId: c.clusterId, providers: c.providers }));

const TrustSchema = z.union([
  LooseCluster.transform((c) => [c]),
  z.array(LooseCluster).min(1).max(MAX_TRUSTED_CLUSTERS),
  z
    .object({ trusted: z.array(LooseCluster).min(1).max(MAX_TRUSTED_CLUSTERS) })
    .transform((t) => t.trusted),
]);

/** Throws TrustError when `input` is none of the accepted shapes or lists a cluster twice. */
export function normalizeTrust(input: TrustInput): TrustedCluster[] {
  const r = TrustSchema.safeParse(input);
  if (!r.success) {
    throw new TrustError(`unusable cluster keys: ${z.prettifyError(r.error)}`);
  }
  const seen = new Set<string>();
  for (const c of r.data) {
    if (seen.has(c.clusterId)) throw new TrustError(`cluster ${c.clusterId} listed twice`);
    seen.add(c.clusterId);
  }
  return r.data;
}

/** A trust list as configuration carries it (any shape `normalizeTrust` accepts), normalized. */
export const TrustList = z.unknown().transform((v, ctx): TrustedCluster[] => {
  try {
    return normalizeTrust(v);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
    return z.NEVER;
  }
});

export function toClusterKeys(c: TrustedCluster): ClusterKeys {
  return { clusterId: c.clusterId, providers: c.providers };
}

/** True when both list the same keys (by provider and x; order and kids of equal keys aside). */
export function sameKeys(a: TrustedCluster, b: TrustedCluster): boolean {
  if (a.clusterId !== b.clusterId) return false;
  return PROVIDERS.every((p) => {
    const xa = new Set(a.providers[p].map((k) => k.x));
    const xb = new Set(b.providers[p].map((k) => k.x));
    return xa.size === xb.size && [...xa].every((x) => xb.has(x));
  });
}

/** Every key of `inner` is trusted by `outer` for the same cluster and provider. */
export function keysCoveredBy(inner: TrustedCluster, outer: readonly TrustedCluster[]): boolean {
  const o = outer.find((c) => c.clusterId === inner.clusterId);
  if (!o) return false;
  return PROVIDERS.every((p) =>
    inner.providers[p].every((k) => o.providers[p].some((t) => t.x === k.x)),
  );
}

function dedupe(keys: PublicJwk[]): PublicJwk[] {
  const seen = new Set<string>();
  return keys.filter((k) => !seen.has(k.x) && seen.add(k.x));
}
