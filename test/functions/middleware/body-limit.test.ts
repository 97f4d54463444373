import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { build } from "esbuild";
import { handle } from "hono/aws-lambda";
import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LambdaHost, serveLambda } from "../../../scripts/local/lambda-host.ts";

/**
 * The body limit on each runtime the app runs on (Node as on Vercel, the Lambda event mapping,
 * workerd), over real HTTP: a declared Content-Length, and a chunked body that declares nothing.
 */

const APP_SOURCE = resolve(import.meta.dirname, "body-limit-app.ts");
const LIMIT = 64 * 1024;

/** POSTs `bytes` to `url`, chunked (a stream: no Content-Length) or with its length declared. */
async function post(url: string, bytes: number, chunked: boolean) {
  let left = bytes;
  const stream = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (left <= 0) return ctrl.close();
      const n = Math.min(16 * 1024, left);
      left -= n;
      ctrl.enqueue(new Uint8Array(n).fill(0x20));
    },
  });
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: chunked ? stream : new Uint8Array(bytes).fill(0x20),
    duplex: "half",
  } as RequestInit);
  return { status: r.status, type: r.headers.get("content-type") ?? "", body: await r.text() };
}

const runtimes: Record<string, string> = {};
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const { app } = await import("./body-limit-app.ts");
  const node = await new Promise<ReturnType<typeof serve>>((ok) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => ok(s));
  });
  runtimes.node = `http://127.0.0.1:${(node.address() as AddressInfo).port}`;
  stops.push(() => new Promise((ok) => node.close(() => ok())));

  const lambda: LambdaHost = await serveLambda(handle(app) as never);
  runtimes.lambda = lambda.url;
  stops.push(() => lambda.close());

  const out = await build({
    entryPoints: [APP_SOURCE],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    logLevel: "silent",
  });
  const mf = new Miniflare({
    modules: true,
    script: out.outputFiles[0]!.text,
    compatibilityDate: "2026-04-26",
    host: "127.0.0.1",
    port: 0,
    cf: false,
  });
  runtimes.workerd = (await mf.ready).origin;
  stops.push(() => mf.dispose());
}, 60_000);

afterAll(async () => {
  for (const s of stops) await s();
});

describe.each(["node", "lambda", "workerd"])("body limit on %s", (rt) => {
  it.each([true, false])(
    "a body over the limit (chunked: %s) gets 413 problem+json",
    async (chunked) => {
      const r = await post(`${runtimes[rt]}/echo`, 4 * LIMIT, chunked);
      expect(r.status).toBe(413);
      expect(r.type).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(r.body)).toMatchObject({ status: 413, maxBytes: LIMIT });
    },
  );

  it.each([true, false])("a body under the limit (chunked: %s) arrives whole", async (chunked) => {
    const r = await post(`${runtimes[rt]}/echo`, LIMIT, chunked);
    expect(r.status, r.body).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ bytes: LIMIT });
  });
});
