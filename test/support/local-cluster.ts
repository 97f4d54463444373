import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalCluster, startLocalCluster } from "../../scripts/local/cluster.ts";
import { freePort } from "./ports.ts";

/** The real three-provider local cluster on free ports and a throwaway data folder. */
export async function startTestCluster(
  clusterId = "test-local",
  env?: Record<string, string>,
): Promise<LocalCluster & { dataDir: string; dispose(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), "tessera-cluster-"));
  // A port found free can be taken by another test process before we bind it: try fresh ports.
  let cluster: LocalCluster | undefined;
  for (let attempt = 0; !cluster; attempt++) {
    const ports = { cloudflare: await freePort(), vercel: await freePort(), aws: await freePort() };
    try {
      cluster = await startLocalCluster({ dataDir, ports, clusterId, ...(env ? { env } : {}) });
    } catch (e) {
      if (attempt >= 2 || !String(e).includes("EADDRINUSE")) throw e;
    }
  }
  return {
    ...cluster,
    dataDir,
    dispose: async () => {
      await cluster.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
