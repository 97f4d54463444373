import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ClusterConfig,
  PROVIDERS,
  type PrivateJwk,
  type ProviderId,
} from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";
import { startAws } from "./aws.ts";
import { startCloudflare } from "./cloudflare.ts";
import { deploymentEnv } from "./env.ts";
import type { LocalProvider, LocalProviderOptions } from "./types.ts";
import { startVercel } from "./vercel.ts";

export const DEFAULT_PORTS: Record<ProviderId, number> = {
  cloudflare: 8787,
  vercel: 3000,
  aws: 3002,
};
const PORT_ENV: Record<ProviderId, string> = {
  cloudflare: "TESSERA_CLOUDFLARE_PORT",
  vercel: "TESSERA_VERCEL_PORT",
  aws: "TESSERA_AWS_PORT",
};
const STARTERS: Record<ProviderId, (o: LocalProviderOptions) => Promise<LocalProvider>> = {
  cloudflare: startCloudflare,
  vercel: startVercel,
  aws: startAws,
};

export interface LocalCluster {
  cluster: ClusterConfig;
  keys: Record<ProviderId, PrivateJwk>;
  /** Development governance key (signs theater licenses) and identity-provider key. */
  governanceKey: PrivateJwk;
  idpKey: PrivateJwk;
  providers: Record<ProviderId, LocalProvider>;
  stop(): Promise<void>;
}

interface StoredKeys {
  clusterId: string;
  keys: Record<ProviderId, PrivateJwk>;
  governanceKey: PrivateJwk;
  idpKey: PrivateJwk;
}

/** Local keys live in the data folder so that a restart keeps the same cluster identity (tickets
 * signed before the restart still verify). They are development keys, never used in a deploy. */
async function loadOrCreateKeys(dataDir: string, clusterId: string): Promise<StoredKeys> {
  const file = join(dataDir, "cluster-keys.json");
  if (existsSync(file)) return JSON.parse(await readFile(file, "utf8")) as StoredKeys;
  const keys = Object.fromEntries(
    await Promise.all(PROVIDERS.map(async (p) => [p, await generateEd25519Jwk(p)] as const)),
  ) as Record<ProviderId, PrivateJwk>;
  const stored: StoredKeys = {
    clusterId,
    keys,
    governanceKey: await generateEd25519Jwk("governance"),
    idpKey: await generateEd25519Jwk("idp"),
  };
  await writeFile(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  return stored;
}

export function portsFromEnv(env: NodeJS.ProcessEnv = process.env): Record<ProviderId, number> {
  return Object.fromEntries(
    PROVIDERS.map((p) => {
      const v = env[PORT_ENV[p]];
      const n = v === undefined ? DEFAULT_PORTS[p] : Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        throw new Error(`${PORT_ENV[p]} must be a port number, got ${JSON.stringify(v)}`);
      }
      return [p, n];
    }),
  ) as Record<ProviderId, number>;
}

/**
 * Starts the three local providers on loopback, each on its own real stand-in stores, with one
 * cluster configuration. `urlFor` lets the WAN-latency proxy put itself between providers.
 */
export async function startLocalCluster(opts: {
  dataDir: string;
  ports: Record<ProviderId, number>;
  clusterId?: string;
  urlFor?: (p: ProviderId, port: number) => string;
  /** Extra deployment environment for all three (e.g. TESSERA_TRUSTED_CLUSTERS). */
  env?: Record<string, string>;
}): Promise<LocalCluster> {
  await mkdir(opts.dataDir, { recursive: true });
  const { clusterId, keys, governanceKey, idpKey } = await loadOrCreateKeys(
    opts.dataDir,
    opts.clusterId ?? "tessera-local",
  );
  const urlFor = opts.urlFor ?? ((_p, port) => `http://127.0.0.1:${port}`);
  const cluster: ClusterConfig = {
    clusterId,
    providers: Object.fromEntries(
      PROVIDERS.map((p) => [p, { url: urlFor(p, opts.ports[p]), publicJwk: publicOf(keys[p]) }]),
    ) as ClusterConfig["providers"],
  };
  const started: Partial<Record<ProviderId, LocalProvider>> = {};
  try {
    await Promise.all(
      PROVIDERS.map(async (p) => {
        started[p] = await STARTERS[p]({
          port: opts.ports[p],
          dataDir: join(opts.dataDir, p),
          env: {
            ...deploymentEnv({ provider: p, cluster, signingKey: keys[p], governanceKey, idpKey }),
            ...opts.env,
          },
        });
      }),
    );
  } catch (e) {
    await Promise.allSettled(Object.values(started).map((s) => s.stop()));
    throw e;
  }
  const providers = started as Record<ProviderId, LocalProvider>;
  return {
    cluster,
    keys,
    governanceKey,
    idpKey,
    providers,
    stop: async () => {
      await Promise.allSettled(PROVIDERS.map((p) => providers[p].stop()));
    },
  };
}
