import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WebConfig } from "../../functions/web/config-types.ts";
import type { ClusterStatus } from "../../functions/web/status-types.ts";
import { ASSETS_MODULE, buildWebAssets } from "../../scripts/build-web.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";

/**
 * The server side of the web front without a browser (part of `npm test`): every page renders with
 * its security headers, the assets are served by content hash and are up to date with the client
 * code, the page config names the other providers, and /status reports each provider's store.
 * The browser tests are web.e2e.ts (`npm run test:e2e`).
 */

let mc: MemoryCluster;
beforeAll(async () => {
  mc = await startMemoryCluster();
});
afterAll(() => {
  mc.heal("aws");
});

const get = (path: string) => mc.request("vercel", path);

describe("web routes", () => {
  it.each([
    ["/", "home"],
    ["/events/ev_1", "event"],
    ["/me/tickets", "tickets"],
    ["/signin/callback", "callback"],
    ["/theater", "theater"],
    ["/theater/plans/new", "theater-plan"],
    ["/theater/plans/pl_1", "theater-plan"],
    ["/theater/events/new", "theater-event-new"],
    ["/theater/events/ev_1", "theater-event"],
    ["/status", "status"],
  ])("%s renders the %s page with a strict CSP", async (path, page) => {
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain(`data-page="${page}"`);
    expect(html).toMatch(/<html lang="en">/);
  });

  it("a malformed id is a 404 page, and the id never reaches the markup", async () => {
    const res = await get("/events/%3Cscript%3E");
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("<script>alert");
  });

  it("inlines the cluster config: this origin first, then the other two providers", async () => {
    const html = await (await get("/")).text();
    const json = /<script type="application\/json" id="tessera-config">(.*?)<\/script>/s.exec(html);
    const cfg = JSON.parse(json![1]!) as WebConfig;
    expect(cfg.provider).toBe("vercel");
    expect(cfg.endpoints.map((e) => e.provider)).toEqual(["vercel", "cloudflare", "aws"]);
    expect(cfg.endpoints[0]!.base).toBe("");
    expect(cfg.endpoints[1]!.base).toBe(mc.tc.cluster.providers.cloudflare.url);
    expect(cfg.oidc.tokenEndpoints[0]).toBe("/idp/token");
    expect(cfg.testCard).toBe("4242424242424242");
    const served = (await (await get("/web/config.json")).json()) as WebConfig;
    expect(served).toEqual(cfg);
  });

  it("serves the script and stylesheet by content hash, cached for good", async () => {
    const html = await (await get("/")).text();
    const js = /src="(\/web\/app\.[0-9a-f]+\.js)"/.exec(html)![1]!;
    const css = /href="(\/web\/app\.[0-9a-f]+\.css)"/.exec(html)![1]!;
    const jsRes = await get(js);
    expect(jsRes.status).toBe(200);
    expect(jsRes.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(jsRes.headers.get("cache-control")).toContain("immutable");
    expect((await get(css)).headers.get("content-type")).toMatch(/^text\/css/);
    // A page from a provider one deploy behind asks for an older hash: still served, not cached.
    const old = await get("/web/app.000000000000.js");
    expect(old.status).toBe(200);
    expect(old.headers.get("cache-control")).toBe("no-cache");
  });

  it("the committed browser bundle is up to date with functions/web/client", async () => {
    expect(await readFile(ASSETS_MODULE, "utf8")).toBe(await buildWebAssets());
  });

  it("/status shows each provider's store and whether the quorum is available", async () => {
    const ok = (await (await get("/web/status.json")).json()) as ClusterStatus;
    expect(ok.providers.map((p) => [p.provider, p.reachable, p.store?.ok])).toEqual([
      ["cloudflare", true, true],
      ["vercel", true, true],
      ["aws", true, true],
    ]);
    expect(ok.quorum).toEqual({ storesUp: 3, needed: 2, available: true });

    mc.cut("aws");
    const cut = (await (await get("/web/status.json")).json()) as ClusterStatus;
    expect(cut.providers.find((p) => p.provider === "aws")?.reachable).toBe(false);
    expect(cut.quorum).toEqual({ storesUp: 2, needed: 2, available: true });
    const html = await (await get("/status")).text();
    expect(html).toContain('data-provider="aws" data-store-ok="false"');
    expect(html).toContain("Quorum available: 2 of 3");
    mc.heal("aws");
  });
});
