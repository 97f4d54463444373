import type { ProviderId } from "../../../../shared/config.ts";
import type { MemoryCluster } from "../../../support/memory-cluster.ts";

export const CARD_OK = { number: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123" };
export const CARD_DECLINED = { ...CARD_OK, number: "4000000000000002" };

let keyNo = 0;
/** A fresh Idempotency-Key. */
export const newKey = () => `k-${Date.now().toString(36)}-${++keyNo}`;

export interface CallOptions {
  token?: string;
  key?: string;
  body?: unknown;
}

/** One buyer API call on one provider's app; returns status, headers and parsed body. */
export async function call(
  mc: MemoryCluster,
  p: ProviderId,
  method: string,
  path: string,
  o: CallOptions = {},
) {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
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
    // not JSON (SVG)
  }
  return { status: r.status, headers: r.headers, body };
}

/**
 * Holds `seats` of an event and buys them with the test card (hold on `via.hold`, confirm on
 * `via.confirm`); fails the test unless both succeed. Returns the hold id and the confirm body.
 */
export async function buySeats(
  mc: MemoryCluster,
  token: string,
  eventId: string,
  seats: readonly unknown[],
  via: { hold?: ProviderId; confirm?: ProviderId } = {},
) {
  const h = await call(mc, via.hold ?? "cloudflare", "POST", `/v1/events/${eventId}/holds`, {
    token,
    key: newKey(),
    body: { seats },
  });
  if (h.status !== 201) throw new Error(`hold refused: ${h.status} ${JSON.stringify(h.body)}`);
  const holdId: string = h.body.holdId;
  const c = await call(mc, via.confirm ?? "cloudflare", "POST", `/v1/holds/${holdId}/confirm`, {
    token,
    key: newKey(),
    body: { card: CARD_OK },
  });
  if (c.status !== 201) throw new Error(`confirm refused: ${c.status} ${JSON.stringify(c.body)}`);
  return { holdId, body: c.body };
}
