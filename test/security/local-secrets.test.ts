import { describe, expect, it } from "vitest";
import { deploymentEnv } from "../../scripts/local/env.ts";
import { makeTestCluster } from "../../scripts/local/throwaway-cluster.ts";
import { publicOf } from "../../shared/crypto/keys.ts";

/**
 * Threat: anyone who can read a local or test cluster's public configuration (the cluster id, the
 * providers' and governance public keys: all published) computes its CRON_SECRET and drives the
 * scheduled anti-entropy sweep at will.
 */
describe("the local cluster's cron secret", () => {
  it("is not computable from the cluster's public values", async () => {
    const tc = await makeTestCluster();
    const secret = tc.envFor("aws").CRON_SECRET ?? "";
    const gov = publicOf(tc.governanceKey);
    const publicValues = [
      tc.cluster.clusterId,
      gov.x,
      gov.kid,
      ...Object.values(tc.cluster.providers).flatMap((p) => [p.url, p.publicJwk.x]),
    ];
    // The formula before the fix, from public values only.
    expect(secret).not.toBe(`local-cron-${tc.cluster.clusterId}-${gov.x.slice(0, 16)}`);
    for (const v of publicValues) expect(secret).not.toContain(v.slice(0, 16));
    expect(secret.length).toBeGreaterThanOrEqual(32);
  });

  it("is the same for every provider of one cluster, and differs between clusters", async () => {
    const a = await makeTestCluster();
    const b = await makeTestCluster();
    expect(a.envFor("aws").CRON_SECRET).toBe(a.envFor("cloudflare").CRON_SECRET);
    expect(a.envFor("aws").CRON_SECRET).not.toBe(b.envFor("aws").CRON_SECRET);
    // Same keys, same secret: restarts of `npm start` agree with themselves.
    const again = deploymentEnv({
      provider: "vercel",
      cluster: a.cluster,
      signingKey: a.keys.vercel,
      governanceKey: a.governanceKey,
      idpKey: a.idpKey,
    });
    expect(again.CRON_SECRET).toBe(a.envFor("aws").CRON_SECRET);
  });
});
