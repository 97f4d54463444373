import { handle } from "hono/vercel";
import { buildApp } from "./app.ts";

/**
 * Vercel entry (Node.js runtime, bundled by scripts/build-vercel.ts). The configuration is read
 * once per instance, at import, so a missing or bad variable fails the cold start with a message
 * naming it rather than failing some later request.
 *
 * Why named method exports and no default export: Vercel's Node launcher first unwraps `default`,
 * then, if the module has GET/POST/... functions, calls them as web handlers (Request -> Response);
 * otherwise it calls the default as a Node `(req, res)` listener. `handle(app)` is a web handler,
 * so it must only be reachable through the method names. (`hono/vercel` is marked deprecated in
 * favour of `@hono/vercel`, which is not published; the function is the same one-liner.)
 */
const app = buildApp(process.env);
const handler = handle(app);

export const GET = handler;
export const HEAD = handler;
export const POST = handler;
export const PUT = handler;
export const PATCH = handler;
export const DELETE = handler;
export const OPTIONS = handler;
