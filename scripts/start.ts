/**
 * `npm start`: the whole three-provider cluster on this machine, on real local stand-ins
 * (workerd with Durable Objects + R2, redis-server behind an Upstash REST bridge, dynalite +
 * s3rver behind a Lambda host). Data persists under .data/ (TESSERA_DATA_DIR) across restarts.
 */
import { resolve } from "node:path";
import { PROVIDERS } from "../shared/config.ts";
import { portsFromEnv, startLocalCluster } from "./local/cluster.ts";
import { seedDemo } from "./local/seed.ts";

const dataDir = resolve(process.env.TESSERA_DATA_DIR ?? ".data");
const t0 = performance.now();
const cluster = await startLocalCluster({ dataDir, ports: portsFromEnv() });

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local cluster…`);
  await cluster.stop();
  console.log("stopped; data kept in", dataDir);
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));

console.log(
  `Tessera local cluster "${cluster.cluster.clusterId}" up in ${Math.round(performance.now() - t0)} ms (data: ${dataDir})`,
);
for (const p of PROVIDERS) {
  const url = cluster.providers[p].url;
  let line: string;
  try {
    const h = (await (await fetch(`${url}/health`)).json()) as {
      store: { name: string; ok: boolean };
      quorum: { reachable: number };
    };
    line = `store ${h.store.name} ${h.store.ok ? "healthy" : "DOWN"}, ${h.quorum.reachable}/3 providers reachable`;
  } catch (e) {
    line = `health check failed: ${String(e)}`;
  }
  console.log(`  ${p.padEnd(10)} ${url.padEnd(24)} ${line}`);
}
try {
  console.log(await seedDemo(cluster, dataDir));
} catch (e) {
  console.error("demo seed failed:", e);
}
console.log("Press Ctrl-C to stop.");
