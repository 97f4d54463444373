import { buildApp } from "./app.ts";

/**
 * Vercel entry (Node.js runtime, bundled by scripts/build-vercel.ts). The configuration is read
 * once per instance, at import, so a missing or bad variable fails the cold start with a message
 * naming it rather than failing some later request.
 *
 * Why named method exports and no default export: Vercel's Node launcher first unwraps `default`,
 * then, if the module has GET/POST/... functions, calls them as web handlers (Request -> Response);
 * otherwise it calls the default as a Node `(req, res)` listener. The handler is a web handler, so
 * it must only be reachable through the method names. (`hono/vercel`'s `handle` is this handler
 * without the execution context.)
 */
const app = buildApp(process.env);

/**
 * Where Vercel's launcher keeps the request being served (what `@vercel/functions` reads for its
 * `waitUntil`, which gives no sign when there is none): its `waitUntil` becomes the app's execution
 * context, so work such as a sale's follow-ups runs on after the answer. Without one (an old
 * runtime), the app finishes its work before answering.
 */
const REQUEST_CONTEXT = Symbol.for("@vercel/request-context");

function executionContext() {
  const holder = (globalThis as Record<symbol, { get?: () => unknown } | undefined>)[
    REQUEST_CONTEXT
  ];
  const ctx = holder?.get?.() as { waitUntil?: (work: Promise<unknown>) => void } | undefined;
  const waitUntil = ctx?.waitUntil;
  if (typeof waitUntil !== "function") return undefined;
  return {
    waitUntil: (work: Promise<unknown>) => waitUntil.call(ctx, work),
    passThroughOnException: () => undefined,
    props: {},
  };
}

const handler = (req: Request) => app.fetch(req, undefined, executionContext());

export const GET = handler;
export const HEAD = handler;
export const POST = handler;
export const PUT = handler;
export const PATCH = handler;
export const DELETE = handler;
export const OPTIONS = handler;
