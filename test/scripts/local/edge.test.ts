import { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EDGE_ADDRESS_HEADERS,
  type EdgeFront,
  startEdgeFront,
  withEdgeAddress,
} from "../../../scripts/local/edge.ts";

/**
 * The local stand-ins report the client address as the platforms do: from the connection, never
 * from a header the client sent. Bare Miniflare keeps a client-sent CF-Connecting-IP (checked
 * here), hence the front in scripts/local/cloudflare.ts.
 */
const ECHO = `export default { fetch(req) {
  return new Response(String(req.headers.get("cf-connecting-ip")));
} };`;

let mf: Miniflare;
let mfUrl: URL;
let front: EdgeFront;

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: ECHO,
    compatibilityDate: "2026-04-26",
    cf: false,
    host: "127.0.0.1",
    port: 0,
  });
  mfUrl = await mf.ready;
  front = await startEdgeFront({
    port: 0,
    upstreamPort: () => Number(mfUrl.port),
    names: EDGE_ADDRESS_HEADERS.cloudflare,
  });
});

afterAll(async () => {
  await front.close();
  await mf.dispose();
});

const spoofed = { headers: { "cf-connecting-ip": "203.0.113.66" } };

describe("local client address", () => {
  it("bare Miniflare passes a client-sent CF-Connecting-IP through (unlike Cloudflare)", async () => {
    expect(await (await fetch(mfUrl, spoofed)).text()).toBe("203.0.113.66");
  });

  it("the Cloudflare front replaces it with the connection's address", async () => {
    const r = await fetch(`http://127.0.0.1:${front.port}/`, spoofed);
    expect(await r.text()).toBe("127.0.0.1");
  });

  it("the Vercel stand-in replaces x-real-ip and x-vercel-forwarded-for", () => {
    const req = new Request("http://x/", {
      headers: { "x-real-ip": "203.0.113.66", "x-vercel-forwarded-for": "203.0.113.66" },
    });
    const out = withEdgeAddress(req, EDGE_ADDRESS_HEADERS.vercel, "127.0.0.1");
    expect(out.headers.get("x-real-ip")).toBe("127.0.0.1");
    expect(out.headers.get("x-vercel-forwarded-for")).toBe("127.0.0.1");
  });

  it("keeps the method, URL and body of the request it re-addresses", async () => {
    const req = new Request("http://x/a?b=1", { method: "POST", body: "seats" });
    const out = withEdgeAddress(req, EDGE_ADDRESS_HEADERS.vercel, "127.0.0.1");
    expect([out.method, out.url, await out.text()]).toEqual(["POST", "http://x/a?b=1", "seats"]);
  });
});
