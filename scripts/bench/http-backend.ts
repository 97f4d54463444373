import { importJWK, SignJWT } from "jose";
import { issueLicense } from "../../shared/auth/license.ts";
import { createTheaterToken } from "../../shared/auth/theater-token.ts";
import { PROVIDERS, type PrivateJwk, type ProviderId } from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";
import { parseSeatKey, type SeatRef, seatKey } from "../../shared/domain/keys.ts";
import {
  aborted,
  type Buyer,
  type BuyerOutcome,
  type HoldValue,
  type Measured,
  type OpControl,
  type OrderValue,
  type SaleBackend,
} from "./backend.ts";
import { type Layout, SEATS_PER_ROW, seatIdOf } from "./board.ts";
import { clock } from "./measure.ts";
import type { WanCluster } from "./wan-cluster.ts";

/**
 * The flash sale through the public HTTP API, as a browser would run it: buyers with their own
 * OIDC access tokens call POST /v1/events/{id}/holds and POST /v1/holds/{id}/confirm on their
 * provider (directly, not through the WAN proxies: the buyer is in that provider's region), and
 * the event is created and opened through the management API with a theatre license.
 */

/** A Server-Timing header's `name;dur=ms` entries, summed by name. */
export function serverTiming(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (header ?? "").split(",")) {
    const m = /^\s*([A-Za-z0-9_-]+)\s*;\s*dur=([0-9.]+)/.exec(part);
    if (m) out[m[1] as string] = (out[m[1] as string] ?? 0) + Number(m[2]);
  }
  return out;
}

/** A request nobody answers within this long counts as lost (the client retries elsewhere). */
const HTTP_TIMEOUT_MS = 30_000;
const THEATER_ID = "th-bench";
/** The test provider's card that always succeeds (shared/payments TEST_CARDS). */
const TEST_CARD = { number: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123" };
/** Sections in the better price band (the first ones, by rank). */
const PREMIUM_SHARE = 0.3;
const DAY_MS = 86_400_000;

/** Seat ids are unique across a plan: the board's `r1s1` becomes `S01-r1s1` in the API. */
export const toApiRef = (s: SeatRef) => ({
  sectionId: s.section,
  seatId: `${s.section}-${s.seatId}`,
});
export const apiSeatKey = (eventId: string, r: { sectionId: string; seatId: string }) =>
  seatKey(eventId, r.sectionId, r.seatId);
/** API seat key → board key (what refusals list, for the seat map). */
export const boardKeyOf = (key: string): string => {
  const { eventId, sectionId, seatId } = parseSeatKey(key);
  const api = `${sectionId}-`;
  return seatKey(eventId, sectionId, seatId.startsWith(api) ? seatId.slice(api.length) : seatId);
};

interface Theater {
  readonly key: PrivateJwk;
  readonly license: string;
}

async function manage(
  wan: WanCluster,
  t: Theater,
  at: ProviderId,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const token = await createTheaterToken({
    license: t.license,
    theaterKey: t.key,
    method,
    path,
    now: Date.now(),
  });
  const r = await fetch(`${wan.direct[at]}${path}`, {
    method,
    headers: {
      authorization: `Tessera-Theater ${token}`,
      "idempotency-key": `bench-${Math.random().toString(36).slice(2)}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS * 4),
  });
  const json = (await r.json().catch(() => ({}))) as Record<string, unknown>;
  if (r.status >= 300)
    throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(json)}`);
  return { status: r.status, body: json };
}

/** The venue of `layout` as a seating plan (docs/formats/seating-plan.md). */
export function planOf(layout: Layout, tag: string) {
  const premium = Math.max(1, Math.round(layout.sections.length * PREMIUM_SHARE));
  return {
    id: `bench-${tag}`,
    name: `Benchmark hall ${tag}`,
    size: { width: SEATS_PER_ROW * 10 + 20, height: layout.sections.length * 500 + 20 },
    categories: [
      { id: "premium", name: "Premium", color: "#d62728" },
      { id: "standard", name: "Standard", color: "#1f77b4" },
    ],
    sections: layout.sections.map((s, si) => ({
      id: s.id,
      name: `Section ${s.id}`,
      rows: Array.from({ length: s.rows }, (_, r) => ({
        id: `r${r + 1}`,
        label: String(r + 1),
        seats: Array.from(
          { length: Math.min(SEATS_PER_ROW, s.seats - r * SEATS_PER_ROW) },
          (_, n) => ({
            id: `${s.id}-${seatIdOf(r, n)}`,
            label: String(n + 1),
            x: 10 + n * 10,
            y: 10 + si * 500 + r * 10,
            category: si < premium ? "premium" : "standard",
          }),
        ),
      })),
    })),
  };
}

/** Creates the plan, venue and event through the management API and opens sales. */
export async function createEvent(wan: WanCluster, layout: Layout, tag: string): Promise<string> {
  return (await createEventAs(wan, layout, tag)).eventId;
}

/** The theatre's refund of a whole order at `at`, timed (ms), as the theatre sees it. */
export type TimedRefund = (at: ProviderId, orderId: string) => Promise<number>;

/** As createEvent, and the theatre's refund call, for the calm refunds. */
export async function createEventAs(
  wan: WanCluster,
  layout: Layout,
  tag: string,
): Promise<{ eventId: string; refund: TimedRefund }> {
  const key = await generateEd25519Jwk(THEATER_ID);
  const license = await issueLicense({
    governanceKey: wan.governanceKey,
    theaterId: THEATER_ID,
    name: "Benchmark Theatre",
    theaterKey: publicOf(key),
    scopes: ["venues", "events", "orders", "sales"],
    clusterId: wan.cluster.clusterId,
    now: Date.now(),
    ttlS: 24 * 3600,
  });
  const t: Theater = { key, license };
  const plan = await manage(wan, t, "cloudflare", "POST", "/v1/manage/plans", {
    format: "tessera",
    plan: planOf(layout, tag),
  });
  const venue = await manage(wan, t, "vercel", "POST", "/v1/manage/venues", {
    name: "Benchmark hall",
    address: "Loopback 1",
    timezone: "Europe/Vienna",
    planId: plan.body.id,
  });
  const now = Date.now();
  const event = await manage(wan, t, "aws", "POST", "/v1/manage/events", {
    title: `Flash sale ${tag}`,
    startsAt: new Date(now + 30 * DAY_MS).toISOString(),
    venueId: venue.body.id,
    planId: plan.body.id,
    priceCategories: [
      { categoryId: "premium", price: { amount: 4900, currency: "EUR" } },
      { categoryId: "standard", price: { amount: 2900, currency: "EUR" } },
    ],
    salesWindow: {
      opensAt: new Date(now - DAY_MS).toISOString(),
      closesAt: new Date(now + 20 * DAY_MS).toISOString(),
    },
  });
  const eventId = String(event.body.id);
  await manage(wan, t, "cloudflare", "POST", `/v1/manage/events/${eventId}/open-sales`);
  const refund: TimedRefund = async (at, orderId) => {
    const t0 = clock();
    await manage(wan, t, at, "POST", `/v1/manage/orders/${orderId}/refund`);
    return clock() - t0;
  };
  return { eventId, refund };
}

export class HttpBackend implements SaleBackend {
  readonly name = "http";
  readonly providers = PROVIDERS;
  private readonly idp: Promise<CryptoKey | Uint8Array>;
  private readonly issuer: string;
  /** Every 5xx answer's problem type and detail, counted: why a sale under load is refused. */
  readonly serverRefusals = new Map<string, number>();

  /** `t2Of(provider)`: the provider's t2 as its coordinator sees it (measured separately). */
  constructor(
    private readonly wan: WanCluster,
    readonly t2Of: (p: ProviderId) => number | undefined,
  ) {
    this.idp = importJWK({ ...wan.idpKey }, "EdDSA");
    this.issuer = `${wan.cluster.providers.cloudflare.url}/idp`;
  }

  /** A buyer with an access token signed as the development IdP signs them. */
  async buyer(n: number): Promise<Buyer> {
    const sub = `bench-buyer-${n}`;
    const iat = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ sub, name: sub, scope: "openid" })
      .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: this.wan.idpKey.kid })
      .setIssuer(this.issuer)
      .setAudience("tessera")
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(await this.idp);
    return { id: sub, token };
  }

  private async call<T>(
    at: ProviderId,
    buyer: Buyer,
    method: string,
    path: string,
    body: unknown,
    idem: string | undefined,
    ctl: OpControl | undefined,
    read: (status: number, json: Record<string, unknown>) => BuyerOutcome<T>,
  ): Promise<Measured<T>> {
    const t0 = clock();
    const timeout = ctl?.abortAfterMs ?? HTTP_TIMEOUT_MS;
    let res: Response;
    let json: Record<string, unknown>;
    try {
      res = await fetch(`${this.wan.direct[at]}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${buyer.token}`,
          ...(idem ? { "idempotency-key": idem } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeout),
      });
      json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    } catch {
      if (ctl?.abortAfterMs !== undefined) return aborted(clock() - t0);
      return {
        outcome: { ok: false, status: 0, code: "no-answer", retryAfter: false },
        measure: { latencyMs: clock() - t0 },
      };
    }
    const t2 = this.t2Of(at);
    if (res.status >= 500) {
      const type = typeof json.type === "string" ? json.type.split("/").pop() : res.status;
      const why = `${type}: ${String(json.detail ?? "").slice(0, 90)}`;
      this.serverRefusals.set(why, (this.serverRefusals.get(why) ?? 0) + 1);
    }
    const steps = serverTiming(res.headers.get("server-timing"));
    return {
      outcome: read(res.status, json),
      measure: {
        latencyMs: clock() - t0,
        ...(t2 === undefined ? {} : { t2Ms: t2 }),
        ...(steps.processor === undefined ? {} : { processorMs: steps.processor }),
        ...(Object.keys(steps).length > 0 ? { serverSteps: steps } : {}),
      },
    };
  }

  private static refusal(
    status: number,
    json: Record<string, unknown>,
    eventId?: string,
  ): BuyerOutcome<never> {
    const type = typeof json.type === "string" ? (json.type.split("/").pop() ?? "") : "";
    const seats = Array.isArray(json.seats)
      ? (json.seats as { sectionId: string; seatId: string }[])
      : [];
    return {
      ok: false,
      status,
      code: type || String(status),
      retryAfter: status === 503,
      ...(eventId && seats.length > 0
        ? { taken: seats.map((r) => boardKeyOf(apiSeatKey(eventId, r))) }
        : {}),
    };
  }

  hold(
    at: ProviderId,
    buyer: Buyer,
    idem: string,
    eventId: string,
    seats: readonly SeatRef[],
    ctl?: OpControl,
  ): Promise<Measured<HoldValue>> {
    return this.call<HoldValue>(
      at,
      buyer,
      "POST",
      `/v1/events/${eventId}/holds`,
      { seats: seats.map(toApiRef) },
      idem,
      ctl,
      (status, json) => {
        if (status === 200 || status === 201) {
          const refs = (json.seats ?? []) as { sectionId: string; seatId: string }[];
          return {
            ok: true,
            value: { holdId: String(json.holdId), seats: refs.map((r) => apiSeatKey(eventId, r)) },
            replayed: status === 200,
          };
        }
        return HttpBackend.refusal(status, json, eventId);
      },
    );
  }

  confirm(
    at: ProviderId,
    buyer: Buyer,
    idem: string,
    holdId: string,
    ctl?: OpControl,
  ): Promise<Measured<OrderValue>> {
    return this.call<OrderValue>(
      at,
      buyer,
      "POST",
      `/v1/holds/${holdId}/confirm`,
      { card: TEST_CARD },
      idem,
      ctl,
      (status, json) => {
        if (status === 200 || status === 201) {
          const order = (json.order ?? {}) as { id?: string };
          return {
            ok: true,
            value: { holdId, orderId: String(order.id) },
            replayed: status === 200,
          };
        }
        return HttpBackend.refusal(status, json);
      },
    );
  }

  release(
    at: ProviderId,
    buyer: Buyer,
    holdId: string,
    ctl?: OpControl,
  ): Promise<Measured<unknown>> {
    return this.call<unknown>(
      at,
      buyer,
      "DELETE",
      `/v1/holds/${holdId}`,
      undefined,
      undefined,
      ctl,
      (status, json) =>
        status < 300
          ? { ok: true, value: json, replayed: false }
          : HttpBackend.refusal(status, json),
    );
  }

  /** The public seat map, as the buyer's page shows it (this provider's store). */
  async freeOnMap(
    at: ProviderId,
    buyer: Buyer,
    eventId: string,
    seats: readonly SeatRef[],
  ): Promise<Set<string> | null> {
    const res = await fetch(`${this.wan.direct[at]}/v1/events/${eventId}/seats`, {
      headers: { authorization: `Bearer ${buyer.token}` },
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    }).catch(() => null);
    if (res?.status !== 200) return null;
    const map = (await res.json()) as {
      sections: { id: string; rows: { seats: { id: string; status: string }[] }[] }[];
    };
    const shown = new Set<string>();
    for (const sec of map.sections) {
      for (const row of sec.rows) {
        for (const seat of row.seats) {
          if (seat.status === "available") shown.add(`${sec.id}/${seat.id}`);
        }
      }
    }
    const free = new Set<string>();
    for (const r of seats) {
      const a = toApiRef(r);
      if (shown.has(`${a.sectionId}/${a.seatId}`)) free.add(`${r.section}/${r.seatId}`);
    }
    return free;
  }
}
