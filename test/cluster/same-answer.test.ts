import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../shared/config.ts";
import { startTestCluster } from "../support/local-cluster.ts";

let cluster: Awaited<ReturnType<typeof startTestCluster>>;
beforeAll(async () => {
  cluster = await startTestCluster();
}, 120_000);
afterAll(async () => {
  await cluster?.dispose();
});

describe("one handler set on three local adapters", () => {
  it("each provider serves /health naming its own store as healthy and its peers reachable", async () => {
    const stores = { cloudflare: "durable-objects", vercel: "upstash-redis", aws: "dynamodb" };
    for (const p of PROVIDERS) {
      const r = await fetch(`${cluster.providers[p].url}/health`);
      expect(r.status).toBe(200);
      const h = (await r.json()) as {
        provider: string;
        store: { name: string; ok: boolean };
        quorum: { reachable: number; available: boolean };
      };
      expect(h.provider).toBe(p);
      expect(h.store).toMatchObject({ name: stores[p], ok: true });
      expect(h.quorum).toEqual({ reachable: 3, available: true });
    }
  });

  it("the same route gives the same answer on all three", async () => {
    const bodies = await Promise.all(
      PROVIDERS.map(async (p) => {
        const r = await fetch(`${cluster.providers[p].url}/v1/nowhere?x=1`);
        return { status: r.status, type: r.headers.get("content-type"), body: await r.text() };
      }),
    );
    expect(bodies[0]?.status).toBe(404);
    expect(bodies[0]?.type).toBe("application/problem+json");
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);
  });
});
