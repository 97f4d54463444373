import { createHmac } from "node:crypto";
import type { ClusterConfig, PrivateJwk, ProviderId } from "../../shared/config.ts";
import { publicOf } from "../../shared/crypto/keys.ts";

/**
 * The environment every deployment of a local or test cluster gets: its own identity and key,
 * the cluster's governance key and the development identity provider (served by every provider
 * under the Cloudflare URL's issuer name, with the same key, so sign-in survives any one loss).
 */
export function deploymentEnv(o: {
  provider: ProviderId;
  cluster: ClusterConfig;
  signingKey: PrivateJwk;
  governanceKey: PrivateJwk;
  idpKey: PrivateJwk;
}): Record<string, string> {
  const issuer = `${o.cluster.providers.cloudflare.url}/idp`;
  return {
    TESSERA_PROVIDER: o.provider,
    TESSERA_CLUSTER: JSON.stringify(o.cluster),
    TESSERA_SIGNING_KEY: JSON.stringify(o.signingKey),
    TESSERA_GOVERNANCE_KEYS: JSON.stringify([publicOf(o.governanceKey)]),
    TESSERA_OIDC_ISSUER: issuer,
    TESSERA_OIDC_AUDIENCE: "tessera",
    TESSERA_OIDC_JWKS: JSON.stringify({ keys: [{ ...publicOf(o.idpKey), alg: "EdDSA" }] }),
    TESSERA_DEV_IDP_KEY: JSON.stringify(o.idpKey),
    TESSERA_DEV_IDP_USERS: "alice,bob,carol,dave",
    CRON_SECRET: localCronSecret(o.cluster, o.governanceKey),
    TESSERA_BUYER_ID_KEY: localSecret("buyer-id", o.cluster, o.governanceKey),
  };
}

/**
 * The scheduled call's secret in a local or test cluster. Derived, not random, so all three local
 * providers and the tests agree without sharing state; derived from the governance PRIVATE key
 * (kept under .data/, never published), so knowing the public configuration does not give it away.
 */
export function localCronSecret(cluster: ClusterConfig, governanceKey: PrivateJwk): string {
  return `local-cron-${localSecret("cron", cluster, governanceKey)}`;
}

/** One of the local cluster's shared secrets, named by `purpose` (see localCronSecret). */
function localSecret(purpose: string, cluster: ClusterConfig, governanceKey: PrivateJwk): string {
  const mac = createHmac("sha256", governanceKey.d).update(`${purpose}\n${cluster.clusterId}`);
  return mac.digest("base64url");
}
