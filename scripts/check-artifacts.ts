/**
 * Loads each built deploy artifact the way its provider would and asks it for /livez, with a
 * throwaway configuration: proves the bundles are complete (no missing module, no Node-only API in
 * the Worker) without deploying anything.
 */
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { unzipSync } from "fflate";
import { Miniflare } from "miniflare";
import { makeTestCluster } from "./local/throwaway-cluster.ts";

export async function checkArtifacts(root: string): Promise<void> {
  const tc = await makeTestCluster();

  // Cloudflare: the wrangler bundle in workerd with its Durable Object and R2 bindings.
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(root, "dist/cloudflare/index.js"),
    compatibilityDate: "2026-04-26",
    durableObjects: { ACCEPTORS: { className: "AcceptorObject", useSQLite: true } },
    r2Buckets: ["BLOBS"],
    bindings: tc.envFor("cloudflare"),
    cf: false,
  });
  try {
    const r = await mf.dispatchFetch("http://localhost/livez");
    await expectLive("cloudflare", new Response(await r.text(), { status: r.status }));
  } finally {
    await mf.dispose();
  }

  // Vercel: the Build Output API function, imported as the Node runtime would.
  Object.assign(process.env, tc.envFor("vercel"), {
    UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
    UPSTASH_REDIS_REST_TOKEN: "dry-run",
  });
  const vc = JSON.parse(
    await readFile(join(root, ".vercel/output/functions/index.func/.vc-config.json"), "utf8"),
  ) as { handler: string };
  const vmod = (await import(
    pathToFileURL(join(root, ".vercel/output/functions/index.func", vc.handler)).href
  )) as Record<string, unknown>;
  const vfetch = (vmod.GET ?? (vmod.default as { fetch?: unknown })?.fetch ?? vmod.default) as (
    r: Request,
  ) => Promise<Response>;
  await expectLive("vercel", await vfetch(new Request("http://localhost/livez")));

  // AWS: unzip the Lambda package and invoke its handler with an API Gateway v2 event.
  const dir = await mkdtemp(join(tmpdir(), "tessera-lambda-"));
  const files = unzipSync(new Uint8Array(await readFile(join(root, "dist/aws/tessera.zip"))));
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), bytes);
  }
  Object.assign(process.env, tc.envFor("aws"), {
    TESSERA_TABLE: "tessera-dry-run",
    TESSERA_BUCKET: "tessera-dry-run",
    AWS_REGION: "us-east-1",
  });
  const entry = Object.keys(files).find((f) => /^index\.(mjs|js|cjs)$/.test(f));
  if (!entry) throw new Error("aws: no index.mjs/js in the Lambda zip");
  const amod = (await import(pathToFileURL(join(dir, entry)).href)) as {
    handler: (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }>;
  };
  const res = await amod.handler(
    {
      version: "2.0",
      routeKey: "$default",
      rawPath: "/livez",
      rawQueryString: "",
      headers: { host: "localhost" },
      requestContext: {
        http: { method: "GET", path: "/livez", protocol: "HTTP/1.1", sourceIp: "127.0.0.1" },
        domainName: "localhost",
        requestId: "dry-run",
        stage: "$default",
        timeEpoch: 0,
      },
      isBase64Encoded: false,
    },
    {},
  );
  await expectLive("aws", new Response(res.body, { status: res.statusCode }));
}

async function expectLive(provider: string, res: Response): Promise<void> {
  const body = await res.text();
  if (res.status !== 200 || !body.includes(`"provider":"${provider}"`)) {
    throw new Error(`${provider} artifact did not answer /livez: ${res.status} ${body}`);
  }
  console.log(`  ${provider.padEnd(11)} artifact answers /livez`);
}
