import { describe, expect, it } from "vitest";
import { createApp } from "../../../functions/app.ts";
import { loadConfig } from "../../../shared/config.ts";
import { DeploymentEnv } from "../../../shared/env.ts";
import { REJOIN_DELAY_MS } from "../../../shared/quorum/rejoin.ts";
import { MemoryBlobs } from "../../../shared/storage/memory.ts";
import { startSeededMemoryCluster } from "../../support/memory-cluster.ts";

describe("a restored store rejoins through the operator endpoints", () => {
  it("marked restored it stops voting; the rejoin step re-chooses every key onto it", async () => {
    const { mc } = await startSeededMemoryCluster();
    const auth = { authorization: `Bearer ${mc.tc.envFor("aws").CRON_SECRET}` };
    const call = async (path: string, method = "POST") => {
      const r = await mc.request("aws", path, { method, headers: auth });
      expect(r.status, await r.clone().text()).toBe(200);
      return (await r.json()) as Record<string, unknown>;
    };
    expect(await call("/internal/membership", "GET")).toMatchObject({ state: "member", epoch: 0 });
    const keys = [...mc.acceptors.cloudflare.records.keys()].sort();
    expect(keys.length).toBeGreaterThan(5);
    // The AWS store is restored from a backup taken before the event was created.
    mc.acceptors.aws.records.clear();
    expect(await call("/internal/membership/restored")).toMatchObject({
      state: "rejoining",
      epoch: 1,
    });
    // The mark is a record in the store itself (a later restore rolls it back too).
    const flagged = await mc.acceptors.aws.read(["sys/member"]);
    expect(flagged[0]?.value).toContain("rejoining");
    // Too soon after the mark: accepts sent before the restore may still be landing.
    expect(await call("/internal/membership/rejoin")).toMatchObject({ waiting: true });
    mc.clock.ms += REJOIN_DELAY_MS + 1;
    const step = await call("/internal/membership/rejoin");
    expect(step).toMatchObject({ rejoined: true, membership: { state: "member", epoch: 1 } });
    expect((step.slice as { moved: number }).moved).toBe(keys.length);
    for (const k of keys) {
      expect(mc.acceptors.aws.records.get(k)?.value).toBe(
        mc.acceptors.cloudflare.records.get(k)?.value,
      );
    }
    // A member again: the scheduled sweep runs no rejoin step.
    const cron = await call("/internal/anti-entropy");
    expect(cron).not.toHaveProperty("rejoin");
  });

  it("the operator endpoints need the cron secret", async () => {
    const { mc } = await startSeededMemoryCluster();
    const r = await mc.request("aws", "/internal/membership/restored", { method: "POST" });
    expect(r.status).toBe(401);
    expect((await mc.acceptors.aws.read(["sys/member"]))[0]?.value).toBeNull();
  });
});

describe("a deploy that names its restore (TESSERA_STORE_RESTORE)", () => {
  it("keeps the store out of quorums from its first request; cron marks and walks it", async () => {
    const { mc } = await startSeededMemoryCluster();
    // The AWS deployment now points at a restored copy, and says so in its configuration.
    mc.acceptors.aws.records.clear();
    mc.apps.aws = createApp({
      provider: "aws",
      cluster: mc.tc.cluster,
      signingKey: mc.tc.keys.aws,
      settings: loadConfig(DeploymentEnv, {
        ...mc.tc.envFor("aws"),
        TESSERA_STORE_RESTORE: "2026-12-07-pitr",
      }),
      acceptor: mc.acceptors.aws,
      blobs: new MemoryBlobs(),
      storeName: "memory",
      now: () => mc.clock.ms,
      fetch: mc.fetchVia("aws"),
    });
    const auth = { authorization: `Bearer ${mc.tc.envFor("aws").CRON_SECRET}` };
    const cron = async () => {
      const r = await mc.request("aws", "/internal/anti-entropy", {
        method: "POST",
        headers: auth,
      });
      expect(r.status).toBe(200);
      return (await r.json()) as { rejoin?: Record<string, unknown> };
    };
    const first = await cron();
    expect(first.rejoin).toMatchObject({
      waiting: true,
      membership: { state: "rejoining", epoch: 1, restore: "2026-12-07-pitr" },
    });
    mc.clock.ms += REJOIN_DELAY_MS + 1;
    const second = await cron();
    expect(second.rejoin).toMatchObject({ rejoined: true });
    expect((await cron()).rejoin).toBeUndefined();
    const keys = [...mc.acceptors.cloudflare.records.keys()];
    for (const k of keys) expect(mc.acceptors.aws.records.has(k)).toBe(true);
  });
});
