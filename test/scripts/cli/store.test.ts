import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../../scripts/cli/main.ts";
import { REJOIN_DELAY_MS } from "../../../shared/quorum/rejoin.ts";
import { captureConsole } from "../../support/console.ts";
import { startSeededMemoryCluster } from "../../support/memory-cluster.ts";

const out = captureConsole();
afterEach(() => {
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

describe("tessera store", () => {
  it("marks a store restored and walks it back to member", async () => {
    const { mc } = await startSeededMemoryCluster();
    const url = mc.tc.cluster.providers.aws.url;
    vi.stubEnv("CRON_SECRET", mc.tc.envFor("aws").CRON_SECRET ?? "");
    vi.stubGlobal("fetch", (input: RequestInfo | URL, init?: RequestInit) =>
      mc.apps.aws.request(new Request(input, init)),
    );
    mc.acceptors.aws.records.clear();
    expect(await main(["store", "mark-restored", url])).toBe(0);
    expect(out.join("\n")).toContain('"rejoining"');
    expect(await main(["store", "rejoin", url])).toBe(1);
    mc.clock.ms += REJOIN_DELAY_MS + 1;
    expect(await main(["store", "rejoin", url, "--until-done"])).toBe(0);
    expect(out.join("\n")).toContain("back to member");
    expect(await main(["store", "status", url])).toBe(0);
  });

  it("needs a URL and the secret", async () => {
    vi.stubEnv("CRON_SECRET", "");
    expect(await main(["store", "status"])).toBe(2);
    expect(await main(["store", "status", "https://x.example"])).toBe(2);
  });
});
