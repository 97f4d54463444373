import { readFile } from "node:fs/promises";
import { issueLicense } from "../../../../shared/auth/license.ts";
import { createTheaterToken } from "../../../../shared/auth/theater-token.ts";
import type { PrivateJwk, ProviderId } from "../../../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../../../shared/crypto/keys.ts";
import type { MemoryCluster } from "../../../support/memory-cluster.ts";

export const ALL_SCOPES = ["venues", "events", "orders", "sales"];
export const DAY_MS = 86_400_000;

export interface TheaterCreds {
  theaterId: string;
  key: PrivateJwk;
  license: string;
}

/** A theatre licensed on the cluster (or with another governance key / lifetime, for refusals). */
export async function licensedTheater(
  mc: Pick<MemoryCluster, "tc" | "clock">,
  theaterId: string,
  o: { scopes?: string[]; governanceKey?: PrivateJwk; ttlS?: number; issuedAtMs?: number } = {},
): Promise<TheaterCreds> {
  const key = await generateEd25519Jwk(theaterId);
  const license = await issueLicense({
    governanceKey: o.governanceKey ?? mc.tc.governanceKey,
    theaterId,
    name: `Theatre ${theaterId}`,
    theaterKey: publicOf(key),
    scopes: o.scopes ?? ALL_SCOPES,
    clusterId: mc.tc.cluster.clusterId,
    now: o.issuedAtMs ?? mc.clock.ms,
    ttlS: o.ttlS ?? 30 * 24 * 3600,
  });
  return { theaterId, key, license };
}

let keyNo = 0;
export const newKey = () => `m-${Date.now().toString(36)}-${++keyNo}`;

export interface ManageCallOptions {
  body?: unknown;
  key?: string;
  headers?: Record<string, string>;
}

/** One management API call with a fresh token bound to its method and path. */
export async function manage(
  mc: MemoryCluster,
  p: ProviderId,
  t: TheaterCreds | undefined,
  method: string,
  path: string,
  o: ManageCallOptions = {},
) {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (t) {
    const token = await createTheaterToken({
      license: t.license,
      theaterKey: t.key,
      method,
      path,
      now: mc.clock.ms,
    });
    headers.authorization = `Tessera-Theater ${token}`;
  }
  if (o.key) headers["idempotency-key"] = o.key;
  if (o.body !== undefined) headers["content-type"] = "application/json";
  const r = await mc.request(p, path, {
    method,
    headers,
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  const text = await r.text();
  // biome-ignore lint/suspicious/noExplicitAny: tests read many response shapes
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: r.status, headers: r.headers, body };
}

export const readJson = async (path: string) =>
  JSON.parse(await readFile(new URL(`../../../../${path}`, import.meta.url), "utf8")) as unknown;

/** Every register value of one store, for "nothing changed" checks (ballots and never-written
 * keys aside: a quorum read rewrites ballots, and records a key it read as empty). */
export function valuesOf(acc: { records: Map<string, { value: string | null }> }) {
  return new Map(
    [...acc.records].filter(([, r]) => r.value !== null).map(([k, r]) => [k, r.value]),
  );
}

/** An event body opening sales a day ago and closing in 20 days. */
export function eventBody(
  nowMs: number,
  venueId: string,
  planId: string,
  prices: Record<string, number>,
  over: Record<string, unknown> = {},
) {
  return {
    title: "Die Zauberflöte",
    startsAt: new Date(nowMs + 30 * DAY_MS).toISOString(),
    venueId,
    planId,
    priceCategories: Object.entries(prices).map(([categoryId, amount]) => ({
      categoryId,
      price: { amount, currency: "EUR" },
    })),
    salesWindow: {
      opensAt: new Date(nowMs - DAY_MS).toISOString(),
      closesAt: new Date(nowMs + 20 * DAY_MS).toISOString(),
    },
    ...over,
  };
}

/** A plan (docs/examples/plan-small.json), venue and on-sale event of theatre `t`. */
export async function theaterWithEvent(
  mc: MemoryCluster,
  t: TheaterCreds,
  prices: Record<string, number> = { premium: 4900, standard: 2900 },
) {
  const plan = await manage(mc, "cloudflare", t, "POST", "/v1/manage/plans", {
    key: newKey(),
    body: { format: "tessera", plan: await readJson("docs/examples/plan-small.json") },
  });
  const venue = await manage(mc, "vercel", t, "POST", "/v1/manage/venues", {
    key: newKey(),
    body: { name: "Hall", address: "Wien", timezone: "Europe/Vienna", planId: plan.body.id },
  });
  const ev = await manage(mc, "aws", t, "POST", "/v1/manage/events", {
    key: newKey(),
    body: eventBody(mc.clock.ms, venue.body.id, plan.body.id, prices),
  });
  const open = await manage(
    mc,
    "cloudflare",
    t,
    "POST",
    `/v1/manage/events/${ev.body.id}/open-sales`,
  );
  if (open.status !== 200) throw new Error(`open-sales: ${JSON.stringify(open.body)}`);
  return {
    planId: plan.body.id as string,
    venueId: venue.body.id as string,
    eventId: ev.body.id as string,
  };
}
