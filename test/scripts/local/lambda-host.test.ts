import { Hono } from "hono";
import { handle } from "hono/aws-lambda";
import { setCookie } from "hono/cookie";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type HttpApiEvent,
  type LambdaHost,
  serveLambda,
} from "../../../scripts/local/lambda-host.ts";

const events: HttpApiEvent[] = [];
let host: LambdaHost;

beforeAll(async () => {
  const app = new Hono();
  app.get("/echo/:name", (c) =>
    c.json({
      name: c.req.param("name"),
      q: c.req.queries("q"),
      x: c.req.query("x"),
      cookie: c.req.header("cookie") ?? null,
      ua: c.req.header("user-agent"),
    }),
  );
  app.post("/json", async (c) => c.json({ got: await c.req.json() }, 201));
  app.post("/bin", async (c) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    // Answer the bytes reversed, as binary, to check both directions.
    return c.body(bytes.reverse(), 200, { "content-type": "application/octet-stream" });
  });
  app.get("/cookies", (c) => {
    setCookie(c, "a", "1", { path: "/" });
    setCookie(c, "b", "2", { httpOnly: true });
    return c.text("ok");
  });
  const h = handle(app);
  host = await serveLambda(async (event, ctx) => {
    events.push(event);
    return h(event, ctx);
  });
});

afterAll(async () => {
  await host?.close();
});

describe("local lambda host (API Gateway HTTP API payload 2.0)", () => {
  it("maps path, query, headers and cookies into the event", async () => {
    const r = await fetch(`${host.url}/echo/zo%C3%AB?q=1&q=2&x=y%20z`, {
      headers: { "User-Agent": "t/1", Cookie: "s=abc; t=def" },
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      name: "zoë",
      q: ["1", "2"],
      x: "y z",
      cookie: "s=abc; t=def",
      ua: "t/1",
    });
    const ev = events.at(-1)!;
    expect(ev.version).toBe("2.0");
    expect(ev.rawPath).toBe("/echo/zo%C3%AB");
    expect(ev.rawQueryString).toBe("q=1&q=2&x=y%20z");
    expect(ev.queryStringParameters).toEqual({ q: "1,2", x: "y z" });
    expect(ev.cookies).toEqual(["s=abc", "t=def"]);
    expect(ev.headers.cookie).toBeUndefined();
    expect(ev.headers["user-agent"]).toBe("t/1");
    expect(ev.requestContext.http.method).toBe("GET");
    expect(ev.requestContext.http.sourceIp).toBe("127.0.0.1");
    expect(ev.body).toBeUndefined();
    expect(ev.isBase64Encoded).toBe(false);
  });

  it("passes a JSON body as text and returns the status", async () => {
    const r = await fetch(`${host.url}/json`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: "é" }),
    });
    expect(r.status).toBe(201);
    expect(await r.json()).toEqual({ got: { a: "é" } });
    const ev = events.at(-1)!;
    expect(ev.isBase64Encoded).toBe(false);
    expect(ev.body).toBe('{"a":"é"}');
  });

  it("base64-encodes a binary body both ways", async () => {
    const bytes = new Uint8Array([0, 1, 2, 200, 255]);
    const r = await fetch(`${host.url}/bin`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(r.status).toBe(200);
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(new Uint8Array([255, 200, 2, 1, 0]));
    const ev = events.at(-1)!;
    expect(ev.isBase64Encoded).toBe(true);
    expect(ev.body).toBe(Buffer.from(bytes).toString("base64"));
  });

  it("sends every cookie as its own set-cookie header", async () => {
    const r = await fetch(`${host.url}/cookies`);
    expect(r.status).toBe(200);
    expect(r.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
  });

  it("answers 500 like API Gateway when the function throws", async () => {
    const failing = await serveLambda(async () => {
      throw new Error("boom");
    });
    try {
      const r = await fetch(`${failing.url}/x`);
      expect(r.status).toBe(500);
      expect(await r.json()).toEqual({ message: "Internal Server Error" });
    } finally {
      await failing.close();
    }
  });
});
