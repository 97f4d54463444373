import type { LocalCluster } from "./cluster.ts";

/** Seeds a small demo venue so a new user sees real data at once. Idempotent. */
export async function seedDemo(_cluster: LocalCluster): Promise<string> {
  return "demo data: none yet";
}
