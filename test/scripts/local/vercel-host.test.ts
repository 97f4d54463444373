import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../adapters/vercel/app.ts";
import { makeTestCluster } from "../../../scripts/local/throwaway-cluster.ts";
import { buildLocalVercel, type LocalVercel, startVercel } from "../../../scripts/local/vercel.ts";
import {
  loadVercelFunction,
  serveVercelFunction,
  type VercelFunction,
} from "../../../scripts/local/vercel-host.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-vercel-host-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One raw HTTP request (fetch refuses TRACE and sends no custom address headers on its own). */
function raw(
  url: string,
  method: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(url, { method, headers }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

/** A Build Output API function folder holding `source` as its index.mjs. */
async function functionDir(name: string, source: string, launcherType = "Nodejs") {
  const d = join(dir, name);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, "index.mjs"), source);
  await writeFile(
    join(d, ".vc-config.json"),
    JSON.stringify({ handler: "index.mjs", launcherType }),
  );
  return d;
}

describe("the local Vercel launcher (vercel-host.ts)", () => {
  let fn: VercelFunction;
  let served: { port: number; close(): Promise<void> };
  let url: string;

  beforeAll(async () => {
    // Nested defaults, as TypeScript output sometimes has them: the launcher unwraps them.
    const d = await functionDir(
      "methods",
      `export default { default: {
        GET: (req) => Response.json({
          url: req.url,
          realIp: req.headers.get("x-real-ip"),
          forwardedFor: req.headers.get("x-vercel-forwarded-for"),
          runtimeRequest: req.constructor === globalThis.Request,
        }),
        POST: async (req) => new Response("got " + (await req.text()), { status: 201 }),
      } };`,
    );
    fn = await loadVercelFunction(d);
    served = await serveVercelFunction(fn, 0);
    url = `http://127.0.0.1:${served.port}`;
  });
  afterAll(async () => {
    await served?.close();
  });

  it("routes each method to the module's export of that name", async () => {
    expect([...fn.methods.keys()].sort()).toEqual(["GET", "POST"]);
    const get = await raw(`${url}/a?b=1`, "GET", { "x-real-ip": "203.0.113.66" });
    expect(get.status).toBe(200);
    expect(JSON.parse(get.body)).toEqual({
      url: `${url}/a?b=1`,
      // The edge sets the client address from the connection, whatever the client sent.
      realIp: "127.0.0.1",
      forwardedFor: "127.0.0.1",
      runtimeRequest: true,
    });
    const post = await fetch(`${url}/`, { method: "POST", body: "seats" });
    expect([post.status, await post.text()]).toEqual([201, "got seats"]);
  });

  it("answers as Vercel does for a method without an export: 405, or 501 outside the list", async () => {
    expect(await raw(`${url}/`, "DELETE")).toEqual({ status: 405, body: "" });
    expect(await raw(`${url}/`, "TRACE")).toEqual({ status: 501, body: "" });
    expect(await raw(`${url}/`, "PROPFIND")).toEqual({ status: 501, body: "" });
  });

  it("refuses a function it cannot run as Vercel's Node launcher would", async () => {
    const edge = await functionDir("edge", "export const GET = () => new Response();", "Edge");
    await expect(loadVercelFunction(edge)).rejects.toThrow(/launcherType "Edge"/);
    const listener = await functionDir("listener", "export default (req, res) => res.end();");
    await expect(loadVercelFunction(listener)).rejects.toThrow(/exports no HTTP method handler/);
  });
});

describe("the local Vercel provider serves the built Vercel output", () => {
  let vercel: LocalVercel;
  const envFor = async (clusterId: string) =>
    (await makeTestCluster({}, clusterId)).envFor("vercel");

  beforeAll(async () => {
    vercel = await startVercel({
      port: 0,
      dataDir: join(dir, "provider"),
      env: await envFor("artifact-a"),
    });
  });
  afterAll(async () => {
    await vercel?.stop();
  });

  it("runs the built function's index.mjs, not the sources, in a plain node process", async () => {
    const { handler, pid } = vercel.instance;
    const funcDir = dirname(handler);
    // The Build Output API function buildVercel() writes for deploys, built outside the repo (so
    // the local cluster never overwrites a deploy's .vercel/output).
    expect(handler).toMatch(/[/\\]output[/\\]functions[/\\]index\.func[/\\]index\.mjs$/);
    expect(handler.startsWith(ROOT)).toBe(false);
    expect(JSON.parse(await readFile(join(funcDir, ".vc-config.json"), "utf8"))).toMatchObject({
      handler: "index.mjs",
      launcherType: "Nodejs",
    });
    // The process serving it: node, the bundled launcher, the function folder; no TypeScript
    // loader that could quietly load a source file the bundle lacks.
    const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").filter(Boolean);
    expect(argv).toEqual([process.execPath, expect.stringMatching(/launcher\.mjs$/), funcDir, "0"]);

    const live = await fetch(`${vercel.url}/livez`);
    expect([live.status, await live.json()]).toEqual([200, { provider: "vercel", ok: true }]);
    const health = (await (await fetch(`${vercel.url}/health`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({ clusterId: "artifact-a", store: { name: "upstash-redis" } });

    // A method Vercel's launcher has no handler for never reaches the app (which would answer it
    // itself, as the old in-process server did).
    const app = buildApp({
      ...(await envFor("artifact-a")),
      UPSTASH_REDIS_REST_URL: vercel.upstash.url,
      UPSTASH_REDIS_REST_TOKEN: vercel.upstash.token,
    });
    const direct = await app.fetch(new Request("http://x/livez", { method: "PROPFIND" }));
    expect(direct.status).not.toBe(501);
    expect((await raw(`${vercel.url}/livez`, "PROPFIND")).status).toBe(501);
  });

  it("gives each instance its own environment, and none of it to this process", async () => {
    const other = await startVercel({
      port: 0,
      dataDir: join(dir, "provider-b"),
      env: await envFor("artifact-b"),
    });
    try {
      const ids = await Promise.all(
        [vercel, other].map(async (v) => {
          const h = (await (await fetch(`${v.url}/health`)).json()) as { clusterId: string };
          return h.clusterId;
        }),
      );
      expect(ids).toEqual(["artifact-a", "artifact-b"]);
      expect(process.env.TESSERA_PROVIDER).toBeUndefined();
      expect(process.env.UPSTASH_REDIS_REST_URL).toBeUndefined();
    } finally {
      await other.stop();
    }
    // stop() ends the function's process.
    expect(() => process.kill(other.instance.pid, 0)).toThrow(/ESRCH/);
  });

  it("fails a start with a bad environment with the function's own message", async () => {
    const env = { ...(await envFor("artifact-c")), TESSERA_PROVIDER: "aws" };
    await expect(startVercel({ port: 0, dataDir: join(dir, "bad"), env })).rejects.toThrow(
      /did not start[\s\S]*TESSERA_PROVIDER/,
    );
    // ...and leaves no function process behind.
    const mine = await children();
    expect(mine.filter((p) => p.cmd.includes("launcher.mjs")).map((p) => p.pid)).toEqual([
      vercel.instance.pid,
    ]);
  });

  it("is down when its function's process dies (that process alone serves the port)", async () => {
    process.kill(vercel.instance.pid, "SIGKILL");
    for (let i = 0; i < 50 && (await children()).some((p) => p.pid === vercel.instance.pid); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await expect(fetch(`${vercel.url}/livez`)).rejects.toThrow();
  });
});

describe("the local Vercel build cache", () => {
  it("builds once per source state and rebuilds when an input changed", async () => {
    const cache = join(dir, "cache");
    const first = await buildLocalVercel(cache);
    expect(first.cached).toBe(false);
    const again = await buildLocalVercel(cache);
    expect(again).toEqual({ ...first, cached: true });
    // Pretend one input (a source file, as esbuild listed it) changed since the build.
    const [record] = (await readdir(cache)).filter((n) => n.endsWith(".json"));
    const file = join(cache, record!);
    const r = JSON.parse(await readFile(file, "utf8")) as { inputs: Record<string, string> };
    const source = join(ROOT, "adapters/vercel/index.ts");
    expect(Object.keys(r.inputs)).toContain(source);
    r.inputs[source] = "0".repeat(64);
    await writeFile(file, JSON.stringify(r));
    expect((await buildLocalVercel(cache)).cached).toBe(false);
  }, 60_000);
});

/** This process's children: pid and command line. */
async function children(): Promise<{ pid: number; cmd: string }[]> {
  const out: { pid: number; cmd: string }[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, "utf8");
      // Fields after the command (which may hold spaces) start after its closing parenthesis.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== process.pid) continue;
      const cmd = (await readFile(`/proc/${name}/cmdline`, "utf8")).replaceAll("\0", " ");
      out.push({ pid: Number(name), cmd });
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}
