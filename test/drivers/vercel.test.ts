import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UpstashAcceptor } from "../../adapters/vercel/acceptor-upstash.ts";
import { buildApp } from "../../adapters/vercel/app.ts";
import { UpstashBlobs } from "../../adapters/vercel/blobs-upstash.ts";
import { createUpstashClient } from "../../adapters/vercel/redis-client.ts";
import { buildVercel } from "../../scripts/build-vercel.ts";
import { type LocalRedis, startRedis } from "../../scripts/local/redis.ts";
import { makeTestCluster } from "../../scripts/local/throwaway-cluster.ts";
import { startUpstashBridge, type UpstashBridge } from "../../scripts/local/upstash-bridge.ts";
import { type LocalVercel, startVercel } from "../../scripts/local/vercel.ts";
import { encodeBallot } from "../../shared/quorum/ballot.ts";
import { acceptorContract, blobContract } from "./contract.ts";

let dir: string;
let redis: LocalRedis;
let bridge: UpstashBridge;
let acceptor: UpstashAcceptor;
let blobs: UpstashBlobs;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-vercel-"));
  redis = await startRedis({ dataDir: join(dir, "redis") });
  bridge = await startUpstashBridge({ redisPort: redis.port });
  const client = createUpstashClient({ url: bridge.url, token: bridge.token, retry: false });
  acceptor = new UpstashAcceptor(client);
  blobs = new UpstashBlobs(client);
});

afterAll(async () => {
  await bridge?.stop();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

acceptorContract("upstash-redis", { acceptor: () => acceptor });
blobContract("upstash-redis", { acceptor: () => acceptor, blobs: () => blobs });

const run = promisify(execFile);
const b = (counter: number, proposer: string) => encodeBallot({ counter, proposer });
const waitFor = async (ok: () => Promise<boolean>) => {
  for (let i = 0; i < 150; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("condition not reached in 15 s");
};

describe("upstash-redis driver specifics", () => {
  it("answers every one of many concurrent first calls while it learns whether WAITAOF exists", async () => {
    const client = createUpstashClient({ url: bridge.url, token: bridge.token, retry: false });
    const fresh = new UpstashAcceptor(client);
    const k = `probe/${Date.now()}`;
    const replies = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fresh.prepare({ keys: [`${k}/${i}`], ballot: b(1, "p") }),
      ),
    );
    expect(replies.every((r) => r[0]?.ok === true)).toBe(true);
  });

  it("orders proposer ids byte-wise, whatever the server's locale", async () => {
    const k = `bytes/${Date.now()}`;
    // Byte order: "-" < "0" < "Z" < "_" < "a"; a collating compare would disagree on some.
    await acceptor.prepare({ keys: [k], ballot: b(1, "a") });
    for (const p of ["Z", "_", "-", "0"]) {
      expect(await acceptor.prepare({ keys: [k], ballot: b(1, p) })).toEqual([
        { ok: false, key: k, conflict: b(1, "a") },
      ]);
    }
    expect((await acceptor.prepare({ keys: [k], ballot: b(1, "aa") }))[0]?.ok).toBe(true);
  });

  it("keeps an acknowledged accept through a redis-server crash (SIGKILL)", async () => {
    const k = `durable/${Date.now()}`;
    await acceptor.accept([
      { key: k, ballot: b(3, "p1"), value: '{"seat":"A1"}', next: b(4, "p1") },
    ]);
    await redis.crash();
    await redis.start();
    await waitFor(() =>
      acceptor.ping().then(
        () => true,
        () => false,
      ),
    );
    expect(await acceptor.read([k])).toEqual([
      { key: k, promised: b(4, "p1"), accepted: b(3, "p1"), value: '{"seat":"A1"}' },
    ]);
  });

  it("round-trips a blob larger than a fetch keepalive body (64 KiB)", async () => {
    const big = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
    const k = `big/${Date.now()}`;
    await blobs.put(k, big);
    const got = await blobs.get(k);
    expect(got && Buffer.from(got).equals(Buffer.from(big))).toBe(true);
  });

  it("refuses to start without its Upstash settings, naming them", async () => {
    const env = (await makeTestCluster()).envFor("vercel");
    expect(() => buildApp(env)).toThrow(/UPSTASH_REDIS_REST_URL[\s\S]*UPSTASH_REDIS_REST_TOKEN/);
    expect(() =>
      buildApp({
        ...env,
        TESSERA_PROVIDER: "aws",
        UPSTASH_REDIS_REST_URL: bridge.url,
        UPSTASH_REDIS_REST_TOKEN: "t",
      }),
    ).toThrow(/TESSERA_PROVIDER/);
  });
});

describe("local Vercel provider", () => {
  let vercel: LocalVercel;

  beforeAll(async () => {
    const env = (await makeTestCluster()).envFor("vercel");
    vercel = await startVercel({ port: 0, dataDir: join(dir, "provider"), env });
  });
  afterAll(async () => {
    await vercel?.stop();
  });

  const health = async () => {
    const res = await fetch(`${vercel.url}/health`);
    return {
      status: res.status,
      body: (await res.json()) as { store: { name: string; ok: boolean } },
    };
  };

  it("answers /health with the Upstash store", async () => {
    const h = await health();
    expect(h.status).toBe(200);
    expect(h.body.store).toMatchObject({ name: "upstash-redis", ok: true });
  });

  it("reports the store down while redis-server is stopped and recovers with its data", async () => {
    const direct = new UpstashAcceptor(
      createUpstashClient({ url: vercel.upstash.url, token: vercel.upstash.token, retry: false }),
    );
    const k = `health/${Date.now()}`;
    await direct.accept([{ key: k, ballot: b(1, "p1"), value: '"kept"' }]);
    const redisServer = vercel.standIns["redis-server"];
    if (!redisServer) throw new Error("no redis-server stand-in");

    await redisServer.stop();
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.store).toMatchObject({ name: "upstash-redis", ok: false });

    await redisServer.start();
    await waitFor(async () => (await health()).status === 200);
    expect((await direct.read([k]))[0]?.value).toBe('"kept"');
  });
});

describe("Vercel build output", () => {
  it("bundles one Node function that serves the app from process.env", async () => {
    const { dir: out, bytes } = await buildVercel({ outDir: join(dir, "output") });
    expect(bytes).toBeGreaterThan(0);
    const fn = join(out, "functions/index.func");
    expect(JSON.parse(await readFile(join(fn, ".vc-config.json"), "utf8"))).toMatchObject({
      runtime: "nodejs22.x",
      handler: "index.mjs",
      launcherType: "Nodejs",
    });
    const config = JSON.parse(await readFile(join(out, "config.json"), "utf8"));
    expect(config).toMatchObject({ version: 3, crons: [{ path: "/internal/anti-entropy" }] });

    // The bundle reads process.env at import: run it in a fresh Node, as Vercel's launcher would.
    const env = {
      ...process.env,
      ...(await makeTestCluster()).envFor("vercel"),
      UPSTASH_REDIS_REST_URL: bridge.url,
      UPSTASH_REDIS_REST_TOKEN: bridge.token,
    };
    const probe = `
      const mod = await import(${JSON.stringify(pathToFileURL(join(fn, "index.mjs")).href)});
      const res = await mod.GET(new Request("https://tessera.example/health"));
      console.log(JSON.stringify({ hasDefault: "default" in mod, status: res.status, body: await res.json() }));`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", probe], { env });
    expect(JSON.parse(stdout)).toMatchObject({
      hasDefault: false,
      status: 200,
      body: { store: { name: "upstash-redis", ok: true } },
    });
  });
});
