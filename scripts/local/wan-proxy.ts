import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ClusterConfig, ProviderId } from "../../shared/config.ts";

/**
 * A wide-area link on loopback: an HTTP proxy in front of one provider that delays each direction
 * of every exchange, may lose it, and can be switched at run time to "partition" (refuse
 * everything) or "slow" (a sick network path). The benchmark and chaos runs put one in front of
 * each provider and write its URL into the cluster configuration, so provider-to-provider calls
 * cross it while buyers still reach the provider directly.
 *
 * One proxy serves every caller of its target, so the link a request travels is told apart by its
 * source (`sourceOf`, e.g. the signing provider of a peer call) and gets that link's profile.
 */

/** One-way latency and loss of a link. */
export interface LinkProfile {
  /** Fixed one-way delay added to the request and again to the response. */
  readonly delayMs: number;
  /** Extra one-way delay drawn uniformly from [0, jitterMs). */
  readonly jitterMs: number;
  /** Probability that one direction of an exchange is lost (request or response, each drawn). */
  readonly lossRate: number;
}

export type LinkMode = "normal" | "partition" | "slow";

/** A run-time fault on top of the link profile. */
export interface WanFault extends Partial<LinkProfile> {
  readonly mode?: LinkMode;
  /** Extra one-way delay in "slow" mode. */
  readonly slowMs?: number;
}

/**
 * What a lost exchange looks like to the caller: "close" resets the connection at once; "hang"
 * never answers (the caller's own time-out ends it), as a black-holed packet would.
 */
export type LossMode = "close" | "hang";

export interface WanProxyOptions extends Partial<LinkProfile> {
  /** Base URL of the target, e.g. http://127.0.0.1:8787. */
  readonly target: string;
  /** Port to listen on (0 or absent: a free one). */
  readonly port?: number;
  /** Seed of the proxy's own generator (jitter and loss draws): same seed, same draws. */
  readonly seed?: number;
  readonly lossMode?: LossMode;
  /** Names the link a request arrives on (its source); undefined = the default profile. */
  readonly sourceOf?: (headers: IncomingHttpHeaders) => string | undefined;
  /** Profiles per source, overriding the default delay, jitter and loss. */
  readonly links?: Readonly<Record<string, Partial<LinkProfile>>>;
}

export interface WanProxyStats {
  forwarded: number;
  /** Exchanges lost on purpose (loss draws). */
  lost: number;
  /** Requests refused by a partition. */
  refused: number;
  /** Requests whose target could not be reached (its process down). */
  unreachable: number;
  /** Responses with status >= 500 passed through, by status. */
  status5xx: Record<string, number>;
  /** 503 responses carrying Retry-After (the documented "try again" answer). */
  retryAfter503: number;
}

export interface WanProxy {
  readonly url: string;
  readonly port: number;
  readonly stats: WanProxyStats;
  /** Sets (replaces) the fault of every link, or of the link from `source` only. */
  setFault(fault: WanFault, source?: string): void;
  /** Back to the configured profiles on every link. */
  clearFaults(): void;
  /**
   * The same link as an in-process fetch for a caller that lives in this process (a benchmark's
   * coordinator): same delays, loss draws and faults as a request from `source` through the
   * proxy, without the proxy's own HTTP hop. URLs of the proxy are sent to its target.
   */
  via(source: string): typeof fetch;
  stop(): Promise<void>;
}

/** "Slow" default: a congested or degraded path, well below the peer and acceptor time-outs
 * (2-3 s) so calls still complete, just late. */
export const SLOW_EXTRA_MS_DEFAULT = 400;
/** Upstream sockets kept per proxy: above the benchmark's request concurrency so the proxy never
 * queues requests itself (queuing would add latency the link profile does not describe). */
const UPSTREAM_SOCKETS_MAX = 512;

/** Deterministic uniform [0, 1) generator (mulberry32): enough for jitter and loss draws. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Hop-by-hop headers (RFC 9110 §7.6.1) are per connection and never forwarded. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
]);

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  return out;
}

export async function startWanProxy(o: WanProxyOptions): Promise<WanProxy> {
  const st: ProxyState = {
    o,
    target: new URL(o.target),
    random: seededRandom(o.seed ?? 1),
    base: {
      delayMs: o.delayMs ?? 0,
      jitterMs: o.jitterMs ?? 0,
      lossRate: o.lossRate ?? 0,
    },
    lossMode: o.lossMode ?? "close",
    faultAll: {},
    faultFrom: new Map<string, WanFault>(),
    stats: {
      forwarded: 0,
      lost: 0,
      refused: 0,
      unreachable: 0,
      status5xx: {},
      retryAfter503: 0,
    },
    hanging: new Set<ServerResponse>(),
  };
  const agent = new Agent({ keepAlive: true, maxSockets: UPSTREAM_SOCKETS_MAX });
  const sockets = new Set<Socket>();
  const handle = proxyHandler(st, agent);

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => req.socket.destroy());
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.keepAliveTimeout = 30_000;
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });

  const proxyOrigin = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    url: proxyOrigin,
    port,
    stats: st.stats,
    setFault(fault, source) {
      if (source === undefined) st.faultAll = fault;
      else st.faultFrom.set(source, fault);
    },
    clearFaults() {
      st.faultAll = {};
      st.faultFrom.clear();
    },
    via: viaFetch(st, proxyOrigin),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        for (const r of st.hanging) r.destroy();
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      });
      return stopped;
    },
  };
}

/** What the proxy's HTTP side and its in-process fetches share. */
interface ProxyState {
  readonly o: WanProxyOptions;
  readonly target: URL;
  /** The one generator of jitter and loss draws, in the order requests draw them. */
  readonly random: () => number;
  readonly base: LinkProfile;
  readonly lossMode: LossMode;
  faultAll: WanFault;
  readonly faultFrom: Map<string, WanFault>;
  readonly stats: WanProxyStats;
  /** Exchanges kept open on purpose ("hang" loss), ended when the proxy stops. */
  readonly hanging: Set<ServerResponse>;
}

/** The link a request from `source` travels now: its profile with the faults on top. */
function effective(st: ProxyState, source: string | undefined) {
  const link = source === undefined ? undefined : st.o.links?.[source];
  const f = { ...st.faultAll, ...(source === undefined ? {} : st.faultFrom.get(source)) };
  const mode: LinkMode = f.mode ?? "normal";
  return {
    mode,
    delayMs: f.delayMs ?? link?.delayMs ?? st.base.delayMs,
    jitterMs: f.jitterMs ?? link?.jitterMs ?? st.base.jitterMs,
    lossRate: f.lossRate ?? link?.lossRate ?? st.base.lossRate,
    slowMs: mode === "slow" ? (f.slowMs ?? SLOW_EXTRA_MS_DEFAULT) : 0,
  };
}

/** Counts a 5xx answer passing through: a 503 with Retry-After apart from the others. */
function count5xx(stats: WanProxyStats, status: number, retryAfter: boolean): void {
  if (status >= 500) {
    if (status === 503 && retryAfter) stats.retryAfter503++;
    else stats.status5xx[status] = (stats.status5xx[status] ?? 0) + 1;
  }
}

/** Forwards one request to the target and its answer back, each way delayed and maybe lost. */
function proxyHandler(st: ProxyState, agent: Agent) {
  const { target, random, stats } = st;
  const lose = (req: IncomingMessage, res: ServerResponse) => {
    stats.lost++;
    if (st.lossMode === "hang") {
      st.hanging.add(res);
      res.on("close", () => st.hanging.delete(res));
      req.resume();
      return;
    }
    req.socket.destroy();
  };

  return async (req: IncomingMessage, res: ServerResponse) => {
    const source = st.o.sourceOf?.(req.headers);
    const link = effective(st, source);
    if (link.mode === "partition") {
      stats.refused++;
      req.socket.destroy();
      return;
    }
    const oneWay = () =>
      link.delayMs + link.slowMs + (link.jitterMs > 0 ? random() * link.jitterMs : 0);
    // Draw both directions' fate up front so the draw sequence does not depend on timing.
    const lostOut = link.lossRate > 0 && random() < link.lossRate;
    const lostBack = link.lossRate > 0 && random() < link.lossRate;
    // The request body is buffered by Node while we wait, then streamed on.
    req.pause();
    await sleep(oneWay());
    if (lostOut) return lose(req, res);
    if (req.socket.destroyed) return;
    const upstream = httpRequest(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...endToEnd(req.headers), host: target.host },
        agent,
      },
      (up) => {
        void (async () => {
          const status = up.statusCode ?? 502;
          count5xx(stats, status, up.headers["retry-after"] !== undefined);
          up.pause();
          await sleep(oneWay());
          if (lostBack) {
            up.resume();
            return lose(req, res);
          }
          if (res.destroyed) return up.resume();
          stats.forwarded++;
          res.writeHead(status, up.statusMessage, endToEnd(up.headers));
          up.pipe(res);
        })();
      },
    );
    // A target that is down (or dies mid-answer) looks to the caller like a dead host: the
    // connection drops. Answering 502 instead would invent a server error no real link produces.
    upstream.on("error", () => {
      stats.unreachable++;
      req.socket.destroy();
    });
    req.on("aborted", () => upstream.destroy());
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
    req.resume();
  };
}

/** WanProxy.via: the link as an in-process fetch, with the same draws, delays and faults. */
function viaFetch(st: ProxyState, proxyOrigin: string) {
  const { target, random, stats } = st;
  return (source: string): typeof fetch =>
    async (input, init) => {
      const link = effective(st, source);
      if (link.mode === "partition") {
        stats.refused++;
        throw new TypeError("fetch failed: link partitioned");
      }
      const oneWay = () =>
        link.delayMs + link.slowMs + (link.jitterMs > 0 ? random() * link.jitterMs : 0);
      const lostOut = link.lossRate > 0 && random() < link.lossRate;
      const lostBack = link.lossRate > 0 && random() < link.lossRate;
      const signal = init?.signal ?? undefined;
      const lost = async (): Promise<never> => {
        stats.lost++;
        if (st.lossMode === "hang" && signal) {
          await new Promise<void>((_, reject) =>
            signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
          );
        }
        throw new TypeError("fetch failed: exchange lost");
      };
      await sleep(oneWay());
      if (lostOut) return lost();
      const raw = typeof input === "string" || input instanceof URL ? String(input) : input.url;
      const url = raw.startsWith(proxyOrigin) ? target.origin + raw.slice(proxyOrigin.length) : raw;
      let res: Response;
      try {
        res = await fetch(url, init);
      } catch (e) {
        stats.unreachable++;
        throw e;
      }
      // The answer travels back whole (peer answers are small JSON).
      const body = await res.arrayBuffer();
      count5xx(stats, res.status, res.headers.has("retry-after"));
      await sleep(oneWay());
      if (lostBack) return lost();
      stats.forwarded++;
      return new Response(body, {
        status: res.status,
        statusText: res.statusText,
        headers: res.headers,
      });
    };
}

/** A peer call's source: the provider whose key signed it (RFC 9421 `keyid` in Signature-Input). */
export function peerSourceOf(
  cluster: Pick<ClusterConfig, "providers">,
): (headers: IncomingHttpHeaders) => ProviderId | undefined {
  const byKid = new Map<string, ProviderId>(
    (Object.keys(cluster.providers) as ProviderId[]).map((p) => [
      cluster.providers[p].publicJwk.kid,
      p,
    ]),
  );
  return (headers) => {
    const input = headers["signature-input"];
    const text = Array.isArray(input) ? input.join(",") : input;
    const kid = text?.match(/keyid="([^"]+)"/)?.[1];
    return kid === undefined ? undefined : byKid.get(kid);
  };
}

/**
 * Default one-way latencies between the providers' regions (a European deployment: Cloudflare's
 * edge, Vercel's and AWS's nearest regions). A provider's own store is not behind a proxy: it sits
 * in the same region (in-process or on loopback locally).
 */
export const WAN_ONE_WAY_MS: Readonly<Record<`${ProviderId}|${ProviderId}`, number>> = {
  "cloudflare|vercel": 20,
  "vercel|cloudflare": 20,
  "vercel|aws": 35,
  "aws|vercel": 35,
  "cloudflare|aws": 60,
  "aws|cloudflare": 60,
  "cloudflare|cloudflare": 0,
  "vercel|vercel": 0,
  "aws|aws": 0,
};
/** Jitter as a share of a link's delay: a calm backbone varies by a few milliseconds. */
export const WAN_JITTER_SHARE = 0.1;

export function oneWayMs(a: ProviderId, b: ProviderId): number {
  return WAN_ONE_WAY_MS[`${a}|${b}`];
}
