/**
 * Child-process host of ONE local provider (its adapter and in-process stand-ins), driven over IPC
 * by scripts/bench/wan-cluster.ts. Each provider gets its own process (and so its own event loop)
 * as it has its own machines in production: with all three in the benchmark's process, one
 * store's work would delay every other provider's replies and the coordinators' clocks.
 *
 * Messages in: { id, cmd: "stop-stand-in" | "start-stand-in", name } and { id, cmd: "stop" }.
 * Messages out: { type: "ready", url, standIns, upstash? } once, then { id, ok, error? }, and
 * { type: "fault" } for every error nothing caught.
 */
import type { ProviderId } from "../../shared/config.ts";
import { startAws } from "../local/aws.ts";
import { startCloudflare } from "../local/cloudflare.ts";
import type { LocalProvider, LocalProviderOptions } from "../local/types.ts";
import { type LocalVercel, startVercel } from "../local/vercel.ts";

export interface HostConfig {
  readonly provider: ProviderId;
  readonly options: LocalProviderOptions;
}

export type HostCommand =
  | { readonly cmd: "stop-stand-in" | "start-stand-in"; readonly name: string }
  | { readonly cmd: "stop" };
export type HostRequest = HostCommand & { readonly id: number };

export type HostMessage =
  | {
      readonly type: "ready";
      readonly url: string;
      readonly standIns: readonly string[];
      readonly upstash?: { readonly url: string; readonly token: string };
    }
  | { readonly type: "failed"; readonly error: string }
  /** An error nothing caught (a stand-in library's or the adapter's): logged, reported, survived. */
  | { readonly type: "fault"; readonly error: string }
  | { readonly type: "reply"; readonly id: number; readonly ok: boolean; readonly error?: string };

const STARTERS: Record<ProviderId, (o: LocalProviderOptions) => Promise<LocalProvider>> = {
  cloudflare: startCloudflare,
  vercel: startVercel,
  aws: startAws,
};

function send(m: HostMessage): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  const raw = process.env.TESSERA_BENCH_HOST;
  if (!raw) throw new Error("TESSERA_BENCH_HOST is not set (this file is run by wan-cluster.ts)");
  const cfg = JSON.parse(raw) as HostConfig;
  // Node's default would end the process, and with it the provider, its stores and the chaos run
  // that stops them. A platform keeps serving after one request's stray error (Workers logs it;
  // Lambda and Vercel replace the instance), so the host logs it, reports it and keeps running;
  // the benchmark lists every such fault in its report.
  const fault = (what: string) => (e: unknown) => {
    const error = `${what}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    console.error(`[${cfg.provider} host] ${error}`);
    send({ type: "fault", error });
  };
  process.on("uncaughtException", fault("uncaught exception"));
  process.on("unhandledRejection", fault("unhandled rejection"));
  let provider: LocalProvider;
  try {
    provider = await STARTERS[cfg.provider](cfg.options);
  } catch (e) {
    send({ type: "failed", error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    process.exit(1);
  }
  const upstash = (provider as Partial<LocalVercel>).upstash;
  send({
    type: "ready",
    url: provider.url,
    standIns: Object.keys(provider.standIns),
    ...(upstash ? { upstash: { url: upstash.url, token: upstash.token } } : {}),
  });
  const shutdown = async () => {
    await provider.stop().catch(() => undefined);
    process.exit(0);
  };
  // The benchmark died or let go of us: never outlive it.
  process.on("disconnect", () => void shutdown());
  process.on("message", (m: HostRequest) => {
    void (async () => {
      try {
        if (m.cmd === "stop") {
          send({ type: "reply", id: m.id, ok: true });
          await shutdown();
          return;
        }
        const s = provider.standIns[m.name];
        if (!s) throw new Error(`${cfg.provider} has no stand-in ${m.name}`);
        await (m.cmd === "stop-stand-in" ? s.stop() : s.start());
        send({ type: "reply", id: m.id, ok: true });
      } catch (e) {
        send({ type: "reply", id: m.id, ok: false, error: String(e) });
      }
    })();
  });
}

void main();
