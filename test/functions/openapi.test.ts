import { Validator } from "@seriousme/openapi-schema-validator";
import { beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../shared/config.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";

let mc: MemoryCluster;
let text: string;
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is read loosely here
let doc: any;

beforeAll(async () => {
  mc = await startMemoryCluster();
  const r = await mc.request("cloudflare", "/openapi.json");
  expect(r.status).toBe(200);
  text = await r.text();
  doc = JSON.parse(text);
});

/**
 * The API contract is everything under /v1/. Outside it: peer-only /internal, the dev /idp,
 * /health and /livez probes, /openapi.json and /docs themselves, and the web app's HTML pages.
 */
const UNDOCUMENTED = [/^\/(?!v1\/)/];

/** Hono's `/a/:id` as OpenAPI's `/a/{id}`. */
const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}");

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "Tessera API", version: "1" });
    const res = await new Validator().validate(JSON.parse(text));
    expect(res.errors ?? []).toEqual([]);
    expect(res.valid).toBe(true);
  });

  it("documents every /v1 route the app serves (peer, IdP, probes, docs and web pages aside)", () => {
    const served = new Set<string>();
    for (const r of mc.apps.aws.routes) {
      if (r.method === "ALL" || UNDOCUMENTED.some((re) => re.test(r.path))) continue;
      served.add(`${r.method.toLowerCase()} ${toOpenApiPath(r.path)}`);
    }
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
      for (const m of Object.keys(item)) documented.add(`${m} ${path}`);
    }
    expect(served.size).toBeGreaterThan(20);
    expect([...served].filter((x) => !documented.has(x))).toEqual([]);
  });

  it("declares both security schemes and uses them", () => {
    expect(doc.components.securitySchemes.buyerBearer).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
    expect(doc.components.securitySchemes.theaterToken).toMatchObject({
      type: "apiKey",
      in: "header",
      name: "Authorization",
    });
    expect(doc.paths["/v1/manage/events"].post.security).toEqual([{ theaterToken: [] }]);
  });

  it("is byte-identical on all three providers", async () => {
    for (const p of PROVIDERS) {
      const r = await mc.request(p, "/openapi.json");
      expect(await r.text()).toBe(text);
    }
  });
});

describe("GET /docs", () => {
  it("is a self-contained page that embeds the document", async () => {
    const r = await mc.request("vercel", "/docs");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await r.text();
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
    const embedded = /<script type="application\/json" id="spec">([\s\S]*?)<\/script>/.exec(html);
    expect(JSON.parse(embedded![1]!)).toEqual(doc);
    expect(html).toContain("Try it");
  });
});
