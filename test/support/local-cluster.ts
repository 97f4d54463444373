import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalCluster, startLocalCluster } from "../../scripts/local/cluster.ts";
import { freePort } from "./ports.ts";

/** The real three-provider local cluster on free ports and a throwaway data folder. */
export async function startTestCluster(
  clusterId = "test-local",
): Promise<LocalCluster & { dataDir: string; dispose(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), "tessera-cluster-"));
  const ports = { cloudflare: await freePort(), vercel: await freePort(), aws: await freePort() };
  const cluster = await startLocalCluster({ dataDir, ports, clusterId });
  return {
    ...cluster,
    dataDir,
    dispose: async () => {
      await cluster.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
