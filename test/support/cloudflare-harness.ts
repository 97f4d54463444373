/**
 * Test-only module worker: exposes the real Cloudflare drivers (DurableObjectAcceptor over the
 * ACCEPTORS namespace, R2Blobs over BLOBS) over fetch, so the Node-side contract suite can drive
 * them inside workerd. JSON in and out; bytes travel as base64. Never deployed.
 */
import {
  DurableObjectAcceptor,
  objectNameFor,
} from "../../adapters/cloudflare/acceptor-durable-objects.ts";
import type { AcceptorObject } from "../../adapters/cloudflare/acceptor-object.ts";
import { R2Blobs } from "../../adapters/cloudflare/blobs-r2.ts";
import type { DurableObjectNamespace, R2Bucket } from "../../adapters/cloudflare/runtime-types.ts";

export { AcceptorObject } from "../../adapters/cloudflare/acceptor-object.ts";

interface Env {
  ACCEPTORS: DurableObjectNamespace<AcceptorObject>;
  BLOBS: R2Bucket;
}

// Any is fine here: the Node side sends exactly the port's argument shapes.
// biome-ignore lint/suspicious/noExplicitAny: test harness pass-through of JSON arguments
type Args = any;

let drivers: { acceptor: DurableObjectAcceptor; blobs: R2Blobs } | undefined;

const toBase64 = (b: Uint8Array) => btoa(Array.from(b, (x) => String.fromCharCode(x)).join(""));
const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

async function handle(path: string, a: Args, env: Env): Promise<unknown> {
  drivers ??= { acceptor: new DurableObjectAcceptor(env.ACCEPTORS), blobs: new R2Blobs(env.BLOBS) };
  const { acceptor, blobs } = drivers;
  switch (path) {
    case "/acceptor/prepare":
      return acceptor.prepare(a);
    case "/acceptor/accept":
      return acceptor.accept(a);
    case "/acceptor/delete":
      return acceptor.deleteIf(a);
    case "/acceptor/read":
      return acceptor.read(a);
    case "/acceptor/scan":
      return acceptor.scan(a.prefix, a.opts);
    case "/acceptor/ping":
      return acceptor.ping().then(() => null);
    case "/blobs/put":
      await blobs.put(a.key, a.text ?? fromBase64(a.base64), a.opts);
      return null;
    case "/blobs/get": {
      const b = await blobs.get(a.key);
      return b && { base64: toBase64(b) };
    }
    case "/blobs/list":
      return blobs.list(a.prefix, a.opts);
    case "/debug/placement": {
      // Which object holds a key, and every key stored in that object, read from the object itself.
      const id = env.ACCEPTORS.idFromName(objectNameFor(a.key));
      const records = await env.ACCEPTORS.get(id).scan("", "", 1000);
      return { objectId: id.toString(), keys: records.map((r) => r.key) };
    }
    default:
      throw new Error(`no harness route ${path}`);
  }
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    try {
      const out = await handle(new URL(req.url).pathname, await req.json(), env);
      return Response.json(out);
    } catch (e) {
      return new Response(e instanceof Error ? (e.stack ?? e.message) : String(e), { status: 500 });
    }
  },
};
