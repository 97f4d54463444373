import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  peerSourceOf,
  seededRandom,
  startWanProxy,
  type WanProxy,
} from "../../../scripts/local/wan-proxy.ts";

/** Target: echoes method, path, the body and a few headers; /fail answers 500, /busy 503. */
let target: Server;
let targetUrl = "";

beforeAll(async () => {
  target = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/fail") {
        res.writeHead(500).end("boom");
        return;
      }
      if (req.url === "/busy") {
        res.writeHead(503, { "retry-after": "1" }).end("busy");
        return;
      }
      const body = Buffer.concat(chunks);
      res.writeHead(200, { "content-type": "application/json", "x-target": "yes" });
      res.end(
        JSON.stringify({
          method: req.method,
          path: req.url,
          bytes: body.length,
          sha: body.length > 0 ? body.subarray(0, 16).toString("hex") : "",
        }),
      );
    });
  });
  await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
});

afterAll(async () => {
  target.closeAllConnections();
  await new Promise<void>((r) => target.close(() => r()));
});

const proxies: WanProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});
async function proxy(o: Omit<Parameters<typeof startWanProxy>[0], "target">) {
  const p = await startWanProxy({ target: targetUrl, ...o });
  proxies.push(p);
  return p;
}

/** Timers never fire early by more than clock rounding; allow 2 ms of it per direction. */
const TIMER_SLACK_MS = 4;

describe("wan proxy", () => {
  it("forwards method, path, headers and a streamed body unchanged", async () => {
    const p = await proxy({});
    const body = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    const r = await fetch(`${p.url}/a/b?c=1`, { method: "POST", body });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-target")).toBe("yes");
    const j = (await r.json()) as { method: string; path: string; bytes: number; sha: string };
    expect(j).toEqual({
      method: "POST",
      path: "/a/b?c=1",
      bytes: body.length,
      sha: Buffer.from(body.subarray(0, 16)).toString("hex"),
    });
    expect(p.stats.forwarded).toBe(1);
  });

  it("adds the one-way delay to each direction", async () => {
    const p = await proxy({ delayMs: 60 });
    const t0 = performance.now();
    const r = await fetch(`${p.url}/x`);
    await r.text();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(120 - TIMER_SLACK_MS);
  });

  it("applies the link profile of the request's source", async () => {
    const sourceOf = (h: Record<string, unknown>) => h["x-src"] as string | undefined;
    const p = await proxy({ delayMs: 0, sourceOf, links: { far: { delayMs: 80 } } });
    const t0 = performance.now();
    await (await fetch(`${p.url}/x`, { headers: { "x-src": "far" } })).text();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(160 - TIMER_SLACK_MS);
  });

  it("loses every exchange at loss rate 1 and none at 0", async () => {
    const p = await proxy({ lossRate: 1 });
    await expect(fetch(`${p.url}/x`)).rejects.toThrow();
    expect(p.stats.lost).toBe(1);
    p.setFault({ lossRate: 0 });
    expect((await fetch(`${p.url}/x`)).status).toBe(200);
  });

  it("loses about the configured share, deterministically for a seed", async () => {
    const run = async () => {
      const p = await proxy({ lossRate: 0.3, seed: 42 });
      let ok = 0;
      for (let i = 0; i < 40; i++) {
        // New connection each time: a lost exchange resets the socket it travelled on.
        const r = await fetch(`${p.url}/x`, { headers: { connection: "close" } }).then(
          async (res) => {
            await res.text();
            return true;
          },
          () => false,
        );
        if (r) ok++;
      }
      return ok;
    };
    const a = await run();
    const b = await run();
    expect(a).toBe(b);
    // Each exchange survives with (1 - 0.3)^2 = 0.49 on average.
    expect(a).toBeGreaterThan(5);
    expect(a).toBeLessThan(35);
  });

  it("hang-mode loss never answers: the caller's time-out ends the exchange", async () => {
    const p = await proxy({ lossRate: 1, lossMode: "hang" });
    await expect(fetch(`${p.url}/x`, { signal: AbortSignal.timeout(150) })).rejects.toThrow();
  });

  it("partition refuses everything until lifted, per source or for all", async () => {
    const sourceOf = (h: Record<string, unknown>) => h["x-src"] as string | undefined;
    const p = await proxy({ sourceOf });
    p.setFault({ mode: "partition" });
    await expect(fetch(`${p.url}/x`)).rejects.toThrow();
    expect(p.stats.refused).toBe(1);
    p.clearFaults();
    p.setFault({ mode: "partition" }, "cut");
    await expect(fetch(`${p.url}/x`, { headers: { "x-src": "cut" } })).rejects.toThrow();
    expect((await fetch(`${p.url}/x`, { headers: { "x-src": "other" } })).status).toBe(200);
    p.clearFaults();
    expect((await fetch(`${p.url}/x`, { headers: { "x-src": "cut" } })).status).toBe(200);
  });

  it("slow mode adds its extra delay each way", async () => {
    const p = await proxy({});
    p.setFault({ mode: "slow", slowMs: 70 });
    const t0 = performance.now();
    await (await fetch(`${p.url}/x`)).text();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140 - TIMER_SLACK_MS);
  });

  it("a dead target drops the connection instead of inventing a 502", async () => {
    const dead = await startWanProxy({ target: "http://127.0.0.1:1" });
    proxies.push(dead);
    await expect(fetch(`${dead.url}/x`)).rejects.toThrow();
    expect(dead.stats.unreachable).toBe(1);
  });

  it("counts server errors, keeping 503 with Retry-After apart", async () => {
    const p = await proxy({});
    expect((await fetch(`${p.url}/fail`)).status).toBe(500);
    expect((await fetch(`${p.url}/busy`)).status).toBe(503);
    expect(p.stats.status5xx).toEqual({ 500: 1 });
    expect(p.stats.retryAfter503).toBe(1);
  });

  it("tells peer calls apart by their signing key", () => {
    const jwk = (kid: string) => ({ kty: "OKP" as const, crv: "Ed25519" as const, x: "x", kid });
    const of = peerSourceOf({
      providers: {
        cloudflare: { url: "u", publicJwk: jwk("cloudflare-1") },
        vercel: { url: "u", publicJwk: jwk("vercel-2") },
        aws: { url: "u", publicJwk: jwk("aws-3") },
      },
    });
    expect(of({ "signature-input": 'tessera=("@method");keyid="vercel-2";alg="ed25519"' })).toBe(
      "vercel",
    );
    expect(of({})).toBeUndefined();
  });

  it("via(): the same link in process, with its delay, faults and URL rewrite", async () => {
    const sourceOf = (h: Record<string, unknown>) => h["x-src"] as string | undefined;
    const p = await proxy({ sourceOf, links: { far: { delayMs: 50 } } });
    const f = p.via("far");
    const t0 = performance.now();
    const r = await f(`${p.url}/in-process?x=1`, { method: "POST", body: "abc" });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100 - TIMER_SLACK_MS);
    expect(await r.json()).toMatchObject({ method: "POST", path: "/in-process?x=1", bytes: 3 });
    p.setFault({ mode: "partition" }, "far");
    await expect(f(`${p.url}/x`)).rejects.toThrow(/partitioned/);
    await expect(p.via("near")(`${p.url}/x`)).resolves.toHaveProperty("status", 200);
    p.clearFaults();
    p.setFault({ lossRate: 1 });
    await expect(f(`${p.url}/x`)).rejects.toThrow(/lost/);
    expect(p.stats.refused).toBe(1);
    expect(p.stats.lost).toBe(1);
  });

  it("seeded draws repeat", () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});
