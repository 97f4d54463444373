import { describe, expect, it } from "vitest";
import { startMemoryCluster } from "../../../support/memory-cluster.ts";

const mc = await startMemoryCluster();

describe("in-memory three-app cluster", () => {
  it("every app reaches both peers", async () => {
    for (const p of ["cloudflare", "vercel", "aws"] as const) {
      const r = await mc.request(p, "/health");
      const h = (await r.json()) as { quorum: { reachable: number } };
      expect(h.quorum.reachable).toBe(3);
    }
  });

  it("issues buyer tokens through the dev IdP", async () => {
    expect(await mc.tokenFor("alice")).toMatch(/^ey/);
  });
});
