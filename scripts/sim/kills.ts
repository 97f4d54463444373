/**
 * Where a coordinator process can die. A real instance can crash between any two awaits of its
 * work: before or after any store call leaves, on any reply, while it sleeps off a refusal, and
 * between the several changes of one seat operation (claim, hold record, rollbacks, settle). The
 * simulator arms a node to die at the k-th such point from now, k drawn from the fault stream, so
 * kills land everywhere a crash can, not only in a change's first accept round.
 */

/** The await points of a coordinator's work, as the simulated network and clock see them. */
export const KILL_POINT_KINDS = [
  "prepare sent",
  "accept sent",
  "read sent",
  "reply received",
  "backoff sleep",
  "timeout sleep",
  "pause",
] as const;
export type KillPointKind = (typeof KILL_POINT_KINDS)[number];

/** The point a kill landed on, and the keys of the store call in flight there (the last call the
 * node made, for sleeps): what the workload needs to name the step that was cut short. */
export interface LandedKill {
  readonly kind: KillPointKind;
  readonly keys: readonly string[];
}

/**
 * Counts a node's await points once armed and says when it must die. `only` restricts the count to
 * one kind: the old kill points ("after-prepare", "after-1-accept", "after-2-accepts") are the 1st,
 * 2nd and 3rd accept send of the next accept round (the node dies before sending it).
 */
export class KillSwitch {
  private left: number | null = null;
  private only: KillPointKind | null = null;
  private lastKeys: readonly string[] = [];
  landed: LandedKill | null = null;

  /** Die just before the `n`-th point (n >= 1) from now, counting only `only` if given. */
  arm(n: number, only?: KillPointKind): void {
    this.left = Math.max(1, n);
    this.only = only ?? null;
  }

  disarm(): void {
    this.left = null;
  }

  /** Whether the process dies at this point (the point's effect then never happens). */
  reached(kind: KillPointKind, keys?: readonly string[]): boolean {
    if (keys) this.lastKeys = keys;
    if (this.left === null || (this.only !== null && this.only !== kind)) return false;
    this.left--;
    if (this.left > 0) return false;
    this.left = null;
    this.landed = { kind, keys: this.lastKeys };
    return true;
  }
}

/** Adds the run's landed kills to its "rules exercised" counts, by point and by seat step. */
export function countKills(
  kills: readonly LandedKill[],
  bump: (rule: string) => void,
  step?: (keys: readonly string[]) => string,
): void {
  for (const k of kills) {
    bump(`kill at ${k.kind}`);
    if (step) bump(`kill in ${step(k.keys)}`);
  }
}
