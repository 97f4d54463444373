import { describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../shared/config.ts";
import { encodeBallot } from "../../../shared/quorum/ballot.ts";
import { startMemoryCluster } from "../../support/memory-cluster.ts";

const SECRET = "gc-test-cron-secret-0123456789";
const DAY_MS = 24 * 60 * 60 * 1000;

describe("scheduled sweep with ?gc=1", () => {
  it("deletes null records untouched for a day from all three stores, through the peers", async () => {
    const mc = await startMemoryCluster({ clusterId: "gc-route", env: { CRON_SECRET: SECRET } });
    const at = (ms: number) => encodeBallot({ counter: ms, proposer: "old" });
    for (const p of PROVIDERS) {
      await mc.acceptors[p].accept([
        { key: "gcr/old", ballot: at(mc.clock.ms - 2 * DAY_MS), value: null },
        { key: "gcr/young", ballot: at(mc.clock.ms - 60_000), value: null },
        { key: "gcr/live", ballot: at(mc.clock.ms - 2 * DAY_MS), value: '"v"' },
      ]);
    }
    const sweep = (query: string) =>
      mc.request("aws", `/internal/anti-entropy?prefix=gcr/${query}`, {
        method: "POST",
        headers: { authorization: `Bearer ${SECRET}` },
      });
    const plain = await sweep("&gc=0");
    expect(plain.status).toBe(200);
    expect(((await plain.json()) as { gc?: unknown }).gc).toBeUndefined();
    const r = await sweep("&gc=1");
    expect(r.status).toBe(200);
    const body = (await r.json()) as { gc: { deleted: number; waiting: number } };
    expect(body.gc).toMatchObject({ deleted: 1, waiting: 1, unreachable: [] });
    for (const p of PROVIDERS) {
      expect([...mc.acceptors[p].records.keys()].sort()).toEqual(["gcr/live", "gcr/young"]);
    }
  });
});
