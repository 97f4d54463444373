import { type ChildProcess, fork } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import type { IncomingHttpHeaders } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  type ClusterConfig,
  PROVIDERS,
  type PrivateJwk,
  type ProviderId,
} from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";
import { deploymentEnv } from "../local/env.ts";
import { freePort } from "../local/redis.ts";
import {
  type LinkProfile,
  oneWayMs,
  peerSourceOf,
  startWanProxy,
  WAN_JITTER_SHARE,
  type WanProxy,
} from "../local/wan-proxy.ts";
import type { HostCommand, HostConfig, HostMessage, HostRequest } from "./provider-host.ts";

/**
 * The three local providers, each in its own process on its real stand-in stores, with a WAN
 * proxy in front of each: the cluster configuration names the proxies, so every
 * provider-to-provider call (and every peer call the benchmark makes as a coordinator "at" a
 * provider) crosses the link profile between the two regions. Buyers reach their provider
 * directly.
 */
export interface WanCluster {
  readonly cluster: ClusterConfig;
  readonly keys: Record<ProviderId, PrivateJwk>;
  readonly governanceKey: PrivateJwk;
  readonly idpKey: PrivateJwk;
  readonly proxies: Record<ProviderId, WanProxy>;
  /** Provider URL without the proxy (what a buyer in its region reaches). */
  readonly direct: Record<ProviderId, string>;
  /** Vercel's Upstash REST endpoint (the single-store baseline uses it too). */
  readonly upstash: { readonly url: string; readonly token: string };
  /** Stand-ins each provider can stop and start (chaos): workerd, redis-server, dynalite... */
  readonly standIns: Record<ProviderId, readonly string[]>;
  readonly dataDir: string;
  /** The CRON_SECRET every provider was given (scripts/local/env.ts derives it). */
  readonly cronSecret: string;
  /** A provider whose key may sign calls to `to` (any provider but `to` itself). */
  signerFor(to: ProviderId): { provider: ProviderId; key: PrivateJwk };
  standIn(provider: ProviderId, name: string, action: "stop" | "start"): Promise<void>;
  /** Errors nothing caught inside a provider's process, and unexpected exits, so far. */
  hostFaults(): readonly string[];
  stop(): Promise<void>;
}

export interface WanClusterOptions {
  /** Data folder; a fresh temporary one (removed on stop) when absent. */
  readonly dataDir?: string;
  readonly seed?: number;
  /** Multiplies every link delay (0 = no WAN latency). */
  readonly latencyScale?: number;
  readonly clusterId?: string;
  /** Pass the providers' own logs through (they log every store failure, so chaos is loud). */
  readonly verbose?: boolean;
}

/** Lines of a provider's log kept to explain an unexpected exit when not verbose. */
const HOST_LOG_LINES = 40;

/** Starting workerd and replaying a store's data takes a while on a busy two-core machine. */
const HOST_READY_TIMEOUT_MS = 120_000;
/** A stand-in restart (workerd especially) can take seconds. */
const HOST_COMMAND_TIMEOUT_MS = 60_000;

const HOST_ENTRY = join(dirname(fileURLToPath(import.meta.url)), "provider-host.ts");
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

interface Host {
  readonly child: ChildProcess;
  readonly ready: Extract<HostMessage, { type: "ready" }>;
  readonly faults: string[];
  request(r: HostCommand): Promise<void>;
}

async function startHost(cfg: HostConfig, verbose: boolean): Promise<Host> {
  const host = new HostProcess(cfg, forkHost(cfg, verbose));
  const ready = await host.ready;
  return {
    child: host.child,
    ready,
    faults: host.faults,
    request: (r) => host.request(r),
  };
}

function forkHost(cfg: HostConfig, verbose: boolean): ChildProcess {
  return fork(HOST_ENTRY, [], {
    execArgv: [
      "--import",
      TSX_LOADER,
      ...(process.env.TESSERA_BENCH_PROF
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.TESSERA_BENCH_PROF}`]
        : []),
    ],
    // A host runs a provider and its stores in one process: Web Crypto jobs (every peer call signs,
    // verifies and seals), LevelDB (dynalite) and file I/O (s3rver) all share libuv's thread pool,
    // whose default of 4 threads is small for that.
    env: {
      UV_THREADPOOL_SIZE: "16",
      ...process.env,
      TESSERA_BENCH_HOST: JSON.stringify(cfg),
    },
    stdio: verbose ? ["ignore", "inherit", "inherit", "ipc"] : ["ignore", "pipe", "pipe", "ipc"],
  });
}

/** The parent's side of one provider host: its last output, its answers, its faults. */
class HostProcess {
  readonly faults: string[] = [];
  readonly ready: Promise<Extract<HostMessage, { type: "ready" }>>;
  private readonly tail: string[] = [];
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private stopping = false;
  private nextId = 1;

  constructor(
    private readonly cfg: HostConfig,
    readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.tail.push(
        ...chunk
          .toString()
          .split("\n")
          .filter((l) => l.trim() !== ""),
      );
      this.tail.splice(0, Math.max(0, this.tail.length - HOST_LOG_LINES));
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    child.once("exit", () => process.off("exit", killOnExit));
    this.ready = new Promise((resolve, reject) => this.listen(resolve, reject));
  }

  private lastOutput(): string {
    return this.tail.join("\n");
  }

  private listen(
    resolve: (m: Extract<HostMessage, { type: "ready" }>) => void,
    reject: (e: Error) => void,
  ): void {
    const { cfg, child } = this;
    const timer = setTimeout(
      () => reject(new Error(`${cfg.provider} host did not start in time`)),
      HOST_READY_TIMEOUT_MS,
    );
    child.on("message", (m: HostMessage) => {
      if (m.type === "ready") {
        clearTimeout(timer);
        resolve(m);
      } else if (m.type === "failed") {
        clearTimeout(timer);
        reject(new Error(`${cfg.provider} host failed: ${m.error}`));
      } else if (m.type === "fault") {
        this.faults.push(`${cfg.provider}: ${m.error}`);
      } else {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.ok) p?.resolve();
        else p?.reject(new Error(m.error ?? "host command failed"));
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (!this.stopping) {
        this.faults.push(
          `${cfg.provider}: host exited (code ${code}, signal ${signal}); its last output:\n${this.lastOutput()}`,
        );
      }
      reject(new Error(`${cfg.provider} host exited with ${code}:\n${this.lastOutput()}`));
      for (const p of this.pending.values()) p.reject(new Error(`${cfg.provider} host exited`));
      this.pending.clear();
    });
  }

  request(r: HostCommand): Promise<void> {
    const { cfg, child } = this;
    return new Promise<void>((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(
            `${cfg.provider} host: ${r.cmd} timed out; its last output:\n${this.lastOutput()}`,
          ),
        );
      }, HOST_COMMAND_TIMEOUT_MS);
      if (r.cmd === "stop") this.stopping = true;
      this.pending.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      // A host that died closes its channel: a refusal for this command, not an uncaught throw.
      child.send({ ...r, id } as HostRequest, (e) => {
        if (!e) return;
        const how =
          child.exitCode !== null || child.signalCode !== null
            ? `exited (code ${child.exitCode}, signal ${child.signalCode})`
            : "closed its channel";
        this.pending
          .get(id)
          ?.reject(
            new Error(
              `${cfg.provider} host ${how} before ${r.cmd}; its last output:\n${this.lastOutput()}`,
            ),
          );
        this.pending.delete(id);
      });
    });
  }
}

async function stopHost(h: Host): Promise<void> {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => h.child.once("exit", () => r()));
  await h.request({ cmd: "stop" }).catch(() => h.child.kill("SIGKILL"));
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (h.child.exitCode === null) h.child.kill("SIGKILL");
}

export async function startWanCluster(o: WanClusterOptions = {}): Promise<WanCluster> {
  const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), "tessera-bench-")));
  const ownsDir = o.dataDir === undefined;
  const scale = o.latencyScale ?? 1;
  const ports = Object.fromEntries(
    await Promise.all(PROVIDERS.map(async (p) => [p, await freePort()] as const)),
  ) as Record<ProviderId, number>;
  const keys = Object.fromEntries(
    await Promise.all(PROVIDERS.map(async (p) => [p, await generateEd25519Jwk(p)] as const)),
  ) as Record<ProviderId, PrivateJwk>;
  const governanceKey = await generateEd25519Jwk("governance");
  const idpKey = await generateEd25519Jwk("idp");

  const proxies = {} as Record<ProviderId, WanProxy>;
  const hosts: Partial<Record<ProviderId, Host>> = {};
  const cleanup = async () => {
    await Promise.allSettled(Object.values(hosts).map((h) => stopHost(h)));
    await Promise.allSettled(Object.values(proxies).map((p) => p.stop()));
    if (ownsDir) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    // Proxies first: their URLs go into the cluster configuration the providers start with.
    let sourceOf: (h: IncomingHttpHeaders) => ProviderId | undefined = () => undefined;
    for (const [i, p] of PROVIDERS.entries()) {
      const links: Record<string, Partial<LinkProfile>> = {};
      for (const q of PROVIDERS) {
        const d = oneWayMs(q, p) * scale;
        links[q] = { delayMs: d, jitterMs: d * WAN_JITTER_SHARE };
      }
      proxies[p] = await startWanProxy({
        target: `http://127.0.0.1:${ports[p]}`,
        seed: (o.seed ?? 1) * 31 + i,
        sourceOf: (h) => sourceOf(h),
        links,
      });
    }
    const cluster: ClusterConfig = {
      clusterId: o.clusterId ?? "tessera-bench",
      providers: Object.fromEntries(
        PROVIDERS.map((p) => [p, { url: proxies[p].url, publicJwk: publicOf(keys[p]) }]),
      ) as ClusterConfig["providers"],
    };
    sourceOf = peerSourceOf(cluster);
    const envOf = (p: ProviderId) =>
      deploymentEnv({ provider: p, cluster, signingKey: keys[p], governanceKey, idpKey });
    await Promise.all(
      PROVIDERS.map(async (p) => {
        await mkdir(join(dataDir, p), { recursive: true });
        hosts[p] = await startHost(
          { provider: p, options: { port: ports[p], dataDir: join(dataDir, p), env: envOf(p) } },
          o.verbose ?? false,
        );
      }),
    );
    const h = hosts as Record<ProviderId, Host>;
    const upstash = h.vercel.ready.upstash;
    if (!upstash) throw new Error("the vercel host did not report its Upstash endpoint");
    return {
      cluster,
      keys,
      governanceKey,
      idpKey,
      proxies,
      direct: Object.fromEntries(PROVIDERS.map((p) => [p, h[p].ready.url])) as Record<
        ProviderId,
        string
      >,
      upstash,
      standIns: Object.fromEntries(PROVIDERS.map((p) => [p, h[p].ready.standIns])) as Record<
        ProviderId,
        readonly string[]
      >,
      dataDir,
      cronSecret: envOf("cloudflare").CRON_SECRET ?? "",
      signerFor(to) {
        const provider = PROVIDERS.find((p) => p !== to) as ProviderId;
        return { provider, key: keys[provider] };
      },
      standIn: (p, name, action) =>
        h[p].request({ cmd: action === "stop" ? "stop-stand-in" : "start-stand-in", name }),
      hostFaults: () => PROVIDERS.flatMap((p) => h[p].faults),
      stop: cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
