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
