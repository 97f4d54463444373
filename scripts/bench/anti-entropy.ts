import { PROVIDERS, type ProviderId } from "../../shared/config.ts";

/**
 * Runs the providers' own anti-entropy sweeps (`POST /internal/anti-entropy`, the cron endpoint)
 * over the whole key space. One sweep compares at most SWEEP_KEYS_MAX keys under a prefix, so a
 * prefix that fills a sweep is split by its next character until every part fits.
 */

/** The endpoint's own per-sweep cap (functions/routes/anti-entropy.ts). */
export const SWEEP_KEYS_MAX = 5_000;
/** Keys are printable ASCII without spaces (shared/storage/partition.ts). */
const KEY_CHARS = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));
/** A sweep of thousands of keys across three stores takes a while on a busy machine. */
const SWEEP_TIMEOUT_MS = 120_000;

export interface SweepTotals {
  sweeps: number;
  scanned: number;
  disagreeing: number;
  repaired: number;
  failed: number;
  /** Sweeps that could not read every store. */
  partial: number;
}

interface SweepReply {
  scanned: number;
  disagreeing: number;
  repaired: number;
  failed: number;
  unreachable: number[];
}

async function sweep(url: string, secret: string, prefix: string): Promise<SweepReply> {
  const r = await fetch(
    `${url}/internal/anti-entropy?prefix=${encodeURIComponent(prefix)}&limit=${SWEEP_KEYS_MAX}`,
    {
      method: "POST",
      headers: { authorization: `Bearer ${secret}` },
      signal: AbortSignal.timeout(SWEEP_TIMEOUT_MS),
    },
  );
  if (!r.ok)
    throw new Error(`anti-entropy at ${url} (${prefix}): HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as SweepReply;
}

async function sweepAll(url: string, secret: string, prefix: string, t: SweepTotals) {
  const r = await sweep(url, secret, prefix);
  t.sweeps++;
  t.disagreeing += r.disagreeing;
  t.repaired += r.repaired;
  t.failed += r.failed;
  if (r.unreachable.length > 0) t.partial++;
  if (r.scanned < SWEEP_KEYS_MAX) {
    t.scanned += r.scanned;
    return;
  }
  // Full: the sweep saw only the first keys under `prefix`; split it (the prefix key itself,
  // if it is one, was compared by this sweep already).
  for (const c of KEY_CHARS) await sweepAll(url, secret, prefix + c, t);
}

/** One full anti-entropy pass on each provider in turn, as their cron jobs would run. */
export async function runAntiEntropy(
  urls: Record<ProviderId, string>,
  secret: string,
): Promise<Record<ProviderId, SweepTotals>> {
  const out = {} as Record<ProviderId, SweepTotals>;
  for (const p of PROVIDERS) {
    const t: SweepTotals = {
      sweeps: 0,
      scanned: 0,
      disagreeing: 0,
      repaired: 0,
      failed: 0,
      partial: 0,
    };
    await sweepAll(urls[p], secret, "", t);
    out[p] = t;
  }
  return out;
}
