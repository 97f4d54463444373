import { deploymentEnv } from "../../scripts/local/env.ts";
import {
  type ClusterConfig,
  loadConfig,
  PROVIDERS,
  type PrivateJwk,
  type ProviderId,
} from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";
import { DeploymentEnv } from "../../shared/env.ts";

export interface TestCluster {
  cluster: ClusterConfig;
  keys: Record<ProviderId, PrivateJwk>;
  /** Governance key that signs theater licenses, and the dev identity provider's key. */
  governanceKey: PrivateJwk;
  idpKey: PrivateJwk;
  /** The TESSERA_* environment for one provider of this cluster. */
  envFor(p: ProviderId): Record<string, string>;
  /** That environment parsed, as an adapter hands it to createApp. */
  settingsFor(p: ProviderId): DeploymentEnv;
}

/** A throwaway cluster configuration with fresh keys; urls default to unreachable placeholders. */
export async function makeTestCluster(
  urls: Partial<Record<ProviderId, string>> = {},
  clusterId = "test-cluster",
): Promise<TestCluster> {
  const keys = Object.fromEntries(
    await Promise.all(PROVIDERS.map(async (p) => [p, await generateEd25519Jwk(p)] as const)),
  ) as Record<ProviderId, PrivateJwk>;
  const governanceKey = await generateEd25519Jwk("governance");
  const idpKey = await generateEd25519Jwk("idp");
  const port = { cloudflare: 8787, vercel: 3000, aws: 3002 };
  const providers = Object.fromEntries(
    PROVIDERS.map((p) => [
      p,
      { url: urls[p] ?? `http://127.0.0.1:${port[p]}`, publicJwk: publicOf(keys[p]) },
    ]),
  ) as ClusterConfig["providers"];
  const cluster: ClusterConfig = { clusterId, providers };
  const envFor = (p: ProviderId) =>
    deploymentEnv({ provider: p, cluster, signingKey: keys[p], governanceKey, idpKey });
  return {
    cluster,
    keys,
    governanceKey,
    idpKey,
    envFor,
    settingsFor: (p) => loadConfig(DeploymentEnv, envFor(p)),
  };
}
