import { z } from "zod";
import type { Money } from "../domain/money.ts";

/**
 * How ticket proceeds are divided. Shares are basis points (1/100 of a percent) summing to exactly
 * 10,000. A share with `members` is divided equally among them (as equally as whole minor units
 * allow), which is how one 4% share is split by the three operators without rounding any of them
 * to 133 or 134 basis points.
 */
export const BASIS_POINTS_TOTAL = 10_000;
/** Most parties one split pays (members counted one by one): an order lists each one's share. */
export const PROCEEDS_PARTIES_MAX = 100;

/** A party: a role ("theater") the caller maps to an account, or a fixed account id. */
export const PartyId = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9_:.-]{1,64}$/);

export const SplitShare = z
  .object({
    party: PartyId,
    basisPoints: z.number().int().min(0).max(BASIS_POINTS_TOTAL),
    members: z.array(PartyId).min(1).max(100).optional(),
  })
  .strict();
export type SplitShare = z.infer<typeof SplitShare>;

export const SplitConfig = z
  .array(SplitShare)
  .min(1)
  .superRefine((shares, ctx) => {
    const sum = shares.reduce((s, x) => s + x.basisPoints, 0);
    if (sum !== BASIS_POINTS_TOTAL) {
      ctx.addIssue({
        code: "custom",
        message: `shares must sum to ${BASIS_POINTS_TOTAL} basis points, not ${sum}`,
      });
    }
    const parties = shares.reduce((n, s) => n + (s.members?.length ?? 1), 0);
    if (parties > PROCEEDS_PARTIES_MAX) {
      ctx.addIssue({ code: "custom", message: `at most ${PROCEEDS_PARTIES_MAX} parties` });
    }
    const seen = new Set<string>();
    shares.forEach((share, i) => {
      for (const p of share.members ?? [share.party]) {
        if (seen.has(p)) {
          ctx.addIssue({ code: "custom", path: [i], message: `party ${p} receives two shares` });
        }
        seen.add(p);
      }
    });
  });
export type SplitConfig = z.infer<typeof SplitConfig>;

/** The operators of the three deployments, who share one operators' cut equally. */
export const OPERATOR_PARTIES = ["operator:cloudflare", "operator:vercel", "operator:aws"] as const;

/** The theatre keeps 92%; the maintainers get 4%; the three operators share 4%. */
export const DEFAULT_SPLIT: SplitConfig = SplitConfig.parse([
  { party: "theater", basisPoints: 9200 },
  { party: "maintainers", basisPoints: 400 },
  { party: "operators", basisPoints: 400, members: [...OPERATOR_PARTIES] },
]);

export interface SplitEntry {
  readonly party: string;
  readonly amount: Money;
}

export class SplitError extends Error {
  override name = "SplitError";
}

/**
 * Largest-remainder apportionment of `total` units by integer `weights`: everyone first gets the
 * floor of their exact quota, then the units left over go one each to the largest fractional
 * remainders, earlier entries first on ties. BigInt keeps total × weight exact beyond 2^53.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((s, w) => s + BigInt(w), 0n);
  if (sum <= 0n) throw new SplitError("weights must sum to more than zero");
  const t = BigInt(total);
  const base = weights.map((w) => (t * BigInt(w)) / sum);
  const rem = weights.map((w, i) => ({ i, r: (t * BigInt(w)) % sum }));
  let left = t - base.reduce((s, b) => s + b, 0n);
  rem.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of rem) {
    if (left === 0n) break;
    base[i]! += 1n;
    left -= 1n;
  }
  return base.map(Number);
}

/**
 * Divides `amount` into one entry per party (members of a group share listed in order) whose
 * amounts sum exactly to `amount`. Throws SplitError for a config that fails `SplitConfig` — a
 * deployment error, caught when the config is loaded, never a per-order outcome.
 */
export function splitProceeds(
  amount: Money,
  shares: readonly SplitShare[] = DEFAULT_SPLIT,
): SplitEntry[] {
  const config = SplitConfig.safeParse(shares);
  if (!config.success) throw new SplitError(config.error.issues.map((i) => i.message).join("; "));
  const parts = apportion(
    amount.amount,
    config.data.map((s) => s.basisPoints),
  );
  const entries: SplitEntry[] = [];
  config.data.forEach((share, i) => {
    const part = parts[i]!;
    const members = share.members ?? [share.party];
    const each = apportion(
      part,
      members.map(() => 1),
    );
    members.forEach((party, k) => {
      entries.push({ party, amount: { amount: each[k]!, currency: amount.currency } });
    });
  });
  return entries;
}
