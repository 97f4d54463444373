import { type ChildProcess, fork } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { build, version as esbuildVersion } from "esbuild";
import { buildVercel } from "../build-vercel.ts";
import { startRedis } from "./redis.ts";
import type { LocalProvider, LocalProviderOptions } from "./types.ts";
import { startUpstashBridge } from "./upstash-bridge.ts";
import type { HostMessage } from "./vercel-host.ts";

export interface LocalVercel extends LocalProvider {
  /** The bridge's REST endpoint, for tests and tools that talk to the store directly. */
  readonly upstash: { readonly url: string; readonly token: string };
  /** The running function instance: the built module it imported and its process. */
  readonly instance: { readonly handler: string; readonly pid: number };
}

/**
 * The Vercel provider on loopback: a real redis-server (data in <dataDir>/redis), the Upstash REST
 * bridge in front of it, and the deployable artifact itself: the Build Output API function that
 * scripts/build-vercel.ts builds for `vercel deploy --prebuilt` (built into a cache, never into the
 * repo's .vercel/output), run by a stand-in for Vercel's Node launcher (vercel-host.ts) in its own
 * Node process with only its own environment. So every local request crosses the entry that
 * deploys, and the code path from @upstash/redis down to the Lua scripts is the production one.
 */
export async function startVercel(opts: LocalProviderOptions): Promise<LocalVercel> {
  const [built, started] = await Promise.allSettled([
    buildLocalVercel(),
    startRedis({ dataDir: join(opts.dataDir, "redis") }),
  ]);
  if (built.status === "rejected" || started.status === "rejected") {
    if (started.status === "fulfilled") await started.value.stop();
    throw built.status === "rejected" ? built.reason : (started as PromiseRejectedResult).reason;
  }
  const redis = started.value;
  const bridge = await startUpstashBridge({ redisPort: redis.port }).catch(async (e: unknown) => {
    await redis.stop();
    throw e;
  });
  let fn: FunctionInstance;
  try {
    fn = await startFunction(built.value, opts.port, {
      ...opts.env,
      UPSTASH_REDIS_REST_URL: bridge.url,
      UPSTASH_REDIS_REST_TOKEN: bridge.token,
    });
  } catch (e) {
    await bridge.stop();
    await redis.stop();
    throw e;
  }
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await fn.stop();
      await bridge.stop();
      await redis.stop();
    })();
    return stopped;
  };
  return {
    provider: "vercel",
    url: `http://127.0.0.1:${fn.port}`,
    stop,
    standIns: { "redis-server": { stop: redis.stop, start: redis.start } },
    upstash: { url: bridge.url, token: bridge.token },
    instance: { handler: fn.handler, pid: fn.pid },
  };
}

// ---------------------------------------------------------------------------------------------
// The function's process

/** A cold start imports a ~1 MB bundle; a busy two-core machine can take a while. */
const READY_TIMEOUT_MS = 60_000;
/** SIGTERM ends the launcher at once (it keeps no state); SIGKILL if it has not after this. */
const STOP_GRACE_MS = 5_000;
/** Lines of the function's output kept to explain a failed start or an unexpected exit. */
const TAIL_LINES = 40;

interface FunctionInstance {
  readonly port: number;
  readonly handler: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Runs the built function in a child `node` (no loader flags of this process: what the launcher
 * and the bundle need, they carry) whose environment is the function's own, exactly what a
 * deployment's settings would be. The bundle reads process.env at import, so a child is the one
 * way several Vercel providers (a cluster, or several clusters in one test process) each get their
 * own settings, as separate Vercel instances do, without any of them touching this process's env.
 */
async function startFunction(
  b: LocalVercelBuild,
  port: number,
  env: Record<string, string>,
): Promise<FunctionInstance> {
  const child: ChildProcess = fork(b.launcher, [b.funcDir, String(port)], {
    execArgv: [],
    env,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((done) =>
    // "close": after the exit AND the last of its output, so the tail below is complete.
    child.once("close", () => {
      process.off("exit", killOnExit);
      done();
    }),
  );
  // The function's logs go where the in-process adapter's went (this process's console); the last
  // lines are kept to explain a failed start.
  const tail: string[] = [];
  const relay = (stream: NodeJS.ReadableStream | null, print: (line: string) => void) => {
    if (!stream) return;
    createInterface({ input: stream }).on("line", (line) => {
      print(line);
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
    });
  };
  relay(child.stdout, console.log);
  relay(child.stderr, console.error);

  let ready: Extract<HostMessage, { type: "ready" }>;
  let timer: NodeJS.Timeout | undefined;
  try {
    ready = await new Promise((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the vercel function did not start in ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      child.on("message", (m: HostMessage) => {
        if (m.type === "ready") resolve(m);
        else if (m.type === "failed")
          reject(new Error(`the vercel function did not start: ${m.error}`));
      });
      child.once("error", reject);
      child.once("close", (code, signal) =>
        reject(
          new Error(
            `the vercel function exited (code ${code}, signal ${signal}) before it was ready:\n${tail.join("\n")}`,
          ),
        ),
      );
    });
  } catch (e) {
    child.kill("SIGKILL");
    await exited;
    throw e;
  } finally {
    clearTimeout(timer);
  }

  let stopping = false;
  child.on("message", (m: HostMessage) => {
    // An error nothing caught in the function: raised here, where it landed when the adapter ran
    // in this process (a test run fails on it; the benchmark's provider host counts it).
    if (m.type === "fault") {
      setImmediate(() => {
        throw new Error(`vercel function: ${m.error}`);
      });
    }
  });
  void exited.then(() => {
    if (!stopping) {
      console.error(
        `[vercel] the function's process ${child.pid} exited (code ${child.exitCode}, signal ${child.signalCode}); the provider is down:\n${tail.join("\n")}`,
      );
    }
  });
  return {
    port: ready.port,
    handler: ready.handler,
    pid: child.pid ?? -1,
    stop: async () => {
      stopping = true;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The build, once per source state

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const HOST_SOURCE = join(ROOT, "scripts/local/vercel-host.ts");
/** Build settings held in code, not in the bundles' inputs: a change to either rebuilds too. */
const BUILD_SCRIPTS = [join(ROOT, "scripts/build-vercel.ts"), fileURLToPath(import.meta.url)];
const FUNCTION_DIR = "output/functions/index.func";
const LAUNCHER = "launcher.mjs";
/** Builds kept per checkout; older ones are removed when a new one is made. */
const KEEP_BUILDS = 3;
/** A failed build's leftovers older than this are removed. */
const STALE_TMP_MS = 60 * 60_000;

/** Where local builds are kept between runs: shared by checkouts, each keyed by its own path. */
export const VERCEL_BUILD_CACHE = join(tmpdir(), "tessera-vercel-build");

export interface LocalVercelBuild {
  /** The Build Output API function folder (.vc-config.json and the bundle it names). */
  readonly funcDir: string;
  /** vercel-host.ts bundled for plain `node`. */
  readonly launcher: string;
  /** Whether the build was found in the cache. */
  readonly cached: boolean;
}

/** What the cache records for one checkout: its current build and every file that went into it. */
interface BuildRecord {
  readonly entry: string;
  readonly esbuild: string;
  /** Absolute path -> sha256 of every input of the function bundle and of the launcher. */
  readonly inputs: Record<string, string>;
}

const sha256 = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");

const inFlight = new Map<string, Promise<LocalVercelBuild>>();

/**
 * The Vercel output built by the deploy's own buildVercel(), plus the launcher, from the sources
 * as they are now. A build costs seconds and clusters start many times in a test run, so builds
 * are cached: a checkout's build is reused while every file esbuild read for it (sources,
 * dependencies, the two build scripts) has the same content and esbuild the same version.
 */
export function buildLocalVercel(cacheDir = VERCEL_BUILD_CACHE): Promise<LocalVercelBuild> {
  let p = inFlight.get(cacheDir);
  if (!p) {
    p = lookupOrBuild(cacheDir).finally(() => inFlight.delete(cacheDir));
    inFlight.set(cacheDir, p);
  }
  return p;
}

async function lookupOrBuild(cacheDir: string): Promise<LocalVercelBuild> {
  const rootKey = sha256(ROOT).slice(0, 16);
  const recordFile = join(cacheDir, `${rootKey}.json`);
  const at = (entry: string, cached: boolean): LocalVercelBuild => ({
    funcDir: join(cacheDir, entry, FUNCTION_DIR),
    launcher: join(cacheDir, entry, LAUNCHER),
    cached,
  });
  const record = await readFile(recordFile, "utf8").then(
    (t) => JSON.parse(t) as BuildRecord,
    () => undefined,
  );
  if (record && record.esbuild === esbuildVersion) {
    const found = at(record.entry, true);
    if (
      existsSync(found.launcher) &&
      existsSync(join(found.funcDir, ".vc-config.json")) &&
      (await unchanged(record.inputs))
    ) {
      return found;
    }
  }

  await mkdir(cacheDir, { recursive: true });
  const startedAt = Date.now();
  // Built in a sibling folder and renamed into place: no reader sees half a build, and the source
  // map's relative paths stay right.
  const tmp = await mkdtemp(join(cacheDir, `${rootKey}-tmp-`));
  try {
    const fn = await buildVercel({ outDir: join(tmp, "output") });
    const host = await build({
      entryPoints: [HOST_SOURCE],
      outfile: join(tmp, LAUNCHER),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      metafile: true,
      logLevel: "warning",
    });
    const files = [
      ...new Set([
        ...fn.inputs,
        ...Object.keys(host.metafile.inputs).map((f) => resolve(f)),
        ...BUILD_SCRIPTS,
      ]),
    ].sort();
    const inputs = Object.fromEntries(
      await Promise.all(files.map(async (f) => [f, sha256(await readFile(f))] as const)),
    );
    const entry = `${rootKey}-${sha256(JSON.stringify({ esbuild: esbuildVersion, inputs })).slice(0, 16)}`;
    await rename(tmp, join(cacheDir, entry)).catch(async (e: unknown) => {
      // Another process built the same sources meanwhile: theirs is as good.
      if (!existsSync(join(cacheDir, entry))) throw e;
      await rm(tmp, { recursive: true, force: true });
    });
    // A file edited while the build ran may be in the bundle as it was before the edit: use this
    // build, but only record it if nothing changed since just before it started.
    const mtimes = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
    if (mtimes.every((t) => t < startedAt - 1000)) {
      const next: BuildRecord = { entry, esbuild: esbuildVersion, inputs };
      const part = `${recordFile}.${process.pid}.tmp`;
      await writeFile(part, JSON.stringify(next));
      await rename(part, recordFile);
      await prune(cacheDir, rootKey, entry);
    }
    return at(entry, false);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function unchanged(inputs: Record<string, string>): Promise<boolean> {
  try {
    const same = await Promise.all(
      Object.entries(inputs).map(async ([f, h]) => sha256(await readFile(f)) === h),
    );
    return same.every(Boolean);
  } catch {
    return false;
  }
}

/** Keeps this checkout's newest builds (and the current one), and drops stale failed builds. */
async function prune(cacheDir: string, rootKey: string, current: string): Promise<void> {
  const mine = (await readdir(cacheDir)).filter((n) => n.startsWith(`${rootKey}-`));
  const dated = await Promise.all(
    mine.map(async (n) => ({
      n,
      t: (await stat(join(cacheDir, n)).catch(() => undefined))?.mtimeMs,
    })),
  );
  const builds = dated
    .filter((d) => d.t !== undefined && !d.n.includes("-tmp-") && d.n !== current)
    .sort((a, b) => (b.t ?? 0) - (a.t ?? 0));
  const old = [
    ...builds.slice(KEEP_BUILDS - 1),
    ...dated.filter((d) => d.n.includes("-tmp-") && (d.t ?? 0) < Date.now() - STALE_TMP_MS),
  ];
  await Promise.all(old.map((d) => rm(join(cacheDir, d.n), { recursive: true, force: true })));
}
