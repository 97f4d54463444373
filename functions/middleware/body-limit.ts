import type { Context, MiddlewareHandler } from "hono";
import { ProblemError } from "../problem.ts";

/**
 * Request body limits, checked before anything parses a body. Two checks, because neither is
 * enough alone: a declared Content-Length over the limit is refused before a byte is read, and the
 * bytes actually read are counted too, since a chunked body (or a host that rebuilt the request)
 * declares nothing. (hono/body-limit trusts a declared length entirely and lets a malformed one
 * through unlimited, hence this.)
 */

/** Every route without a larger limit of its own: far above any of its valid JSON bodies. */
export const BODY_BYTES_DEFAULT = 64 * 1024;

/**
 * The refusal. It closes the connection (RFC 9110 §15.5.14): the rest of the body is still on its
 * way, and a client reusing the connection would otherwise send its next request into it.
 */
export function payloadTooLarge(max: number): ProblemError {
  return new ProblemError(
    413,
    "payload-too-large",
    "Payload too large",
    `at most ${max} bytes per request`,
    { maxBytes: max },
    { connection: "close" },
  );
}

/** True when the request declares a body longer than `max` (or a length that is not a number). */
export function declaredTooLarge(req: Request, max: number): boolean {
  const declared = req.headers.get("content-length");
  if (declared === null) return false;
  return !/^\d{1,15}$/.test(declared.trim()) || Number(declared) > max;
}

/** The whole body, read chunk by chunk and abandoned at the first byte past `max` (null then). */
export async function readCapped(req: Request, max: number): Promise<Uint8Array | null> {
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const ch of chunks) {
    out.set(ch, at);
    at += ch.byteLength;
  }
  return out;
}

/**
 * Reads the body under `max` (413 problem+json past it) and hands the route a request whose body
 * is the bytes read, so parsing never sees more than the limit.
 */
export function limitBody(max: number): MiddlewareHandler {
  return async (c, next) => {
    await bufferUnder(c, max);
    await next();
  };
}

async function bufferUnder(c: Context, max: number): Promise<void> {
  const req = c.req.raw;
  if (!req.body) return;
  if (declaredTooLarge(req, max)) throw payloadTooLarge(max);
  const body = await readCapped(req, max);
  if (body === null) throw payloadTooLarge(max);
  c.req.raw = new Request(req, { body: body as BodyInit });
}

/** A route whose limit is not the default. */
export interface RouteBodyLimit {
  readonly method: string;
  /** The exact path, or a prefix ending in `/` for every path below it. */
  readonly path: string;
  readonly maxBytes: number;
  /**
   * The route reads its body itself, under the same limit, once it has checked the caller (a
   * large upload after authentication, a peer call after its signature headers): here only its
   * declared length is checked.
   */
  readonly readsItself?: boolean;
}

/** The app-wide limit: every route gets one, the default unless `routes` names another. */
export function bodyLimits(routes: readonly RouteBodyLimit[]): MiddlewareHandler {
  const find = (method: string, path: string) =>
    routes.find(
      (r) =>
        r.method === method && (r.path.endsWith("/") ? path.startsWith(r.path) : path === r.path),
    );
  return async (c, next) => {
    const own = find(c.req.method, c.req.path);
    if (own?.readsItself) {
      if (declaredTooLarge(c.req.raw, own.maxBytes)) throw payloadTooLarge(own.maxBytes);
    } else {
      await bufferUnder(c, own?.maxBytes ?? BODY_BYTES_DEFAULT);
    }
    await next();
  };
}
