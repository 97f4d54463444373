/**
 * The local stand-in for Vercel's Node.js launcher: serves ONE built Build Output API function
 * (`<dir>/functions/index.func`, as scripts/build-vercel.ts writes it for deploys) over HTTP on
 * loopback, the way Vercel runs it: read `.vc-config.json`, import its `handler` file (which reads
 * process.env at import), and hand each request, as a web Request, to the module's export named
 * after the request method. In front of it, what Vercel's edge does: the client address headers
 * come from the connection (scripts/local/edge.ts).
 *
 * scripts/local/vercel.ts bundles this file (esbuild, next to the built function) and runs it as a
 * plain `node` child with only the function's environment, one process per instance as on Vercel:
 * no TypeScript loader, no other provider's settings, nothing of the parent's globals. Protocol
 * over the IPC channel, child to parent only: { type: "ready", port, handler } once listening,
 * { type: "failed", error } if the function or the listener did not start (then exit 1), and
 * { type: "fault", error } for every error nothing caught while serving. The child exits when the
 * parent lets go of the channel (or dies), and on SIGTERM; it ignores the terminal's SIGINT, which
 * is the parent's to handle.
 *
 * Usage: node launcher.mjs <function dir> <port>
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { getRequestListener } from "@hono/node-server";
import { EDGE_ADDRESS_HEADERS, socketAddress, withEdgeAddress } from "./edge.ts";
import { listenOnLoopback } from "./loopback.ts";

const errorText = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : String(e));

/** The methods Vercel's Node launcher routes to named exports (@vercel/node's HTTP_METHODS). */
export const HTTP_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"] as const;

export type WebHandler = (req: Request) => Response | Promise<Response>;

/** The fields of a function's `.vc-config.json` this launcher reads. */
export interface VcConfig {
  readonly handler: string;
  readonly launcherType?: string;
  readonly runtime?: string;
}

export interface VercelFunction {
  /** Absolute path of the module that was imported (the function's `handler`). */
  readonly handler: string;
  /** The module's web handler for each method it exports one for. */
  readonly methods: ReadonlyMap<string, WebHandler>;
}

export type HostMessage =
  | { readonly type: "ready"; readonly port: number; readonly handler: string }
  | { readonly type: "failed"; readonly error: string }
  | { readonly type: "fault"; readonly error: string };

/**
 * Loads a Build Output API Node.js function as Vercel's launcher does: imports `handler`, unwraps
 * nested `default`s, and if the module has GET/POST/... functions routes each request to the one
 * named after its method (see noExport for the others). Only web-handler modules are supported: a
 * default `(req, res)` listener, the launcher's other mode, is refused, as Tessera never ships one.
 */
export async function loadVercelFunction(funcDir: string): Promise<VercelFunction> {
  const vc = JSON.parse(await readFile(join(funcDir, ".vc-config.json"), "utf8")) as VcConfig;
  if (vc.launcherType !== "Nodejs") {
    throw new Error(
      `${funcDir}: launcherType ${JSON.stringify(vc.launcherType)}, expected "Nodejs"`,
    );
  }
  const handler = join(funcDir, vc.handler);
  let mod = (await import(pathToFileURL(handler).href)) as Record<string, unknown>;
  for (let i = 0; i < 5 && mod.default; i++) mod = mod.default as Record<string, unknown>;
  const byMethod = new Map<string, WebHandler>();
  for (const m of HTTP_METHODS) {
    const h = mod[m];
    if (typeof h === "function") byMethod.set(m, h as WebHandler);
  }
  if (byMethod.size === 0) {
    throw new Error(`${handler} exports no HTTP method handler (${HTTP_METHODS.join(", ")})`);
  }
  return { handler, methods: byMethod };
}

/**
 * The answer to a method the module has no export for: for a method Vercel's launcher lists, 405
 * with no body (its default handler); any other method has no handler in the launcher at all, and
 * gets 501 Not Implemented here. Decided before any Request is made: the runtime's Request refuses
 * some methods (TRACE, CONNECT) outright.
 */
export function noExport(method: string): Response {
  const listed = (HTTP_METHODS as readonly string[]).includes(method);
  return new Response(null, { status: listed ? 405 : 501 });
}

/**
 * What Vercel's launcher keeps for each request under this symbol (read by `@vercel/functions`
 * and by adapters/vercel): the request's `waitUntil`, work the instance finishes after the answer.
 */
const REQUEST_CONTEXT = Symbol.for("@vercel/request-context");
const requestContext = new AsyncLocalStorage<{ waitUntil(work: Promise<unknown>): void }>();
(globalThis as Record<symbol, unknown>)[REQUEST_CONTEXT] = { get: () => requestContext.getStore() };

/** A request's `waitUntil`: the work runs on after the answer; its failure is logged, as Vercel
 * logs it, never raised. */
const waitUntil = (work: Promise<unknown>) => {
  work.catch((e: unknown) => console.error(`[vercel] waitUntil work failed: ${errorText(e)}`));
};

/** Serves a loaded function on 127.0.0.1:port (0 = any) with the edge's client address headers. */
export async function serveVercelFunction(
  fn: VercelFunction,
  port: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const listener = getRequestListener(
    (req, env) => {
      const method = env.incoming.method ?? "GET";
      const h = fn.methods.get(method);
      if (!h) return noExport(method);
      // As Vercel's edge does: the client address headers come from the connection.
      const edged = withEdgeAddress(req, EDGE_ADDRESS_HEADERS.vercel, socketAddress(env.incoming));
      return requestContext.run({ waitUntil }, () => h(edged));
    },
    {
      // Vercel's launcher hands the function the runtime's own Request and Response classes: keep
      // node-server's lighter ones out of the function's globals.
      overrideGlobalObjects: false,
      // A handler that throws: logged, and answered 500 as Vercel does (node-server alone is silent).
      errorHandler: (e) => {
        console.error(`[vercel] the function threw: ${errorText(e)}`);
        return new Response(null, { status: 500 });
      },
    },
  );
  const server = createServer(listener);
  return listenOnLoopback(server, port);
}

/** Sends a message to the parent; resolves once it is on its way (or at once without a parent). */
const send = (m: HostMessage) =>
  new Promise<void>((resolve) => {
    if (!process.send) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });

async function main(): Promise<void> {
  const [funcDir, portArg] = process.argv.slice(2);
  process.on("SIGINT", () => undefined);
  process.on("disconnect", () => process.exit(0));
  let served: { port: number };
  let fn: VercelFunction;
  try {
    if (!funcDir) throw new Error("usage: launcher.mjs <function dir> <port>");
    fn = await loadVercelFunction(funcDir);
    served = await serveVercelFunction(fn, Number(portArg ?? 0));
  } catch (e) {
    console.error(`[vercel] function did not start: ${errorText(e)}`);
    await send({ type: "failed", error: errorText(e) });
    process.exit(1);
  }
  // On Vercel a stray error ends this instance and the next request gets a new one. Locally the
  // parent hears of it (and raises it where the in-process adapter's error used to land), and the
  // instance keeps serving, so a chaos run sees the fault without losing the provider.
  const fault = (what: string) => (e: unknown) => {
    console.error(`[vercel] ${what}: ${errorText(e)}`);
    void send({ type: "fault", error: `${what}: ${errorText(e)}` });
  };
  process.on("uncaughtException", fault("uncaught exception"));
  process.on("unhandledRejection", fault("unhandled rejection"));
  await send({ type: "ready", port: served.port, handler: fn.handler });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) void main();
