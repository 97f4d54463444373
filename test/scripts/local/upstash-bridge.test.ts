import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalRedis, startRedis } from "../../../scripts/local/redis.ts";
import { startUpstashBridge, type UpstashBridge } from "../../../scripts/local/upstash-bridge.ts";

let dir: string;
let redis: LocalRedis;
let bridge: UpstashBridge;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-bridge-"));
  redis = await startRedis({ dataDir: dir });
  bridge = await startUpstashBridge({ redisPort: redis.port });
});

afterAll(async () => {
  await bridge?.stop();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(bridge.url + path, {
    method: "POST",
    headers: { authorization: `Bearer ${bridge.token}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as unknown };
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("Upstash REST bridge", () => {
  it("runs one command and encodes string results only when asked", async () => {
    expect(await post("", ["SET", "br:k", "héllo"])).toEqual({
      status: 200,
      body: { result: "OK" },
    });
    expect((await post("", ["GET", "br:k"])).body).toEqual({ result: "héllo" });
    expect((await post("", ["GET", "br:k"], { "upstash-encoding": "base64" })).body).toEqual({
      result: b64("héllo"),
    });
    expect((await post("", ["GET", "br:none"], { "upstash-encoding": "base64" })).body).toEqual({
      result: null,
    });
  });

  it("base64-encodes strings inside nested arrays and keeps non-UTF-8 bytes intact", async () => {
    const lua = "return {1, string.char(255, 0, 1), {ARGV[1], false}}";
    const r = await post("", ["EVAL", lua, "0", "x"], { "upstash-encoding": "base64" });
    expect(r.body).toEqual({ result: [1, "/wAB", [b64("x"), null]] });
  });

  it("answers a pipeline per command, errors included", async () => {
    const r = await post("/pipeline", [
      ["SET", "br:p", "1"],
      ["HGET", "br:p", "f"],
      ["INCR", "br:p"],
    ]);
    expect(r.status).toBe(200);
    const [a, bad, c] = r.body as { result?: unknown; error?: string }[];
    expect(a).toEqual({ result: "OK" });
    expect(bad?.error).toMatch(/WRONGTYPE/);
    expect(c).toEqual({ result: 2 });
  });

  it("runs multi-exec inside MULTI/EXEC", async () => {
    const r = await post("/multi-exec", [
      ["SET", "br:m", "a"],
      ["APPEND", "br:m", "b"],
      ["GET", "br:m"],
    ]);
    expect(r.body).toEqual([{ result: "OK" }, { result: 2 }, { result: "ab" }]);
  });

  it("refuses a missing or wrong token", async () => {
    const none = await fetch(bridge.url, { method: "POST", body: '["PING"]' });
    expect(none.status).toBe(401);
    const wrong = await post("", ["PING"], { authorization: "Bearer nope" });
    expect(wrong).toEqual({ status: 401, body: { error: "Unauthorized" } });
  });

  it("answers an unknown EVALSHA with NOSCRIPT, and the client falls back to EVAL", async () => {
    const sha = "0".repeat(40);
    const r = await post("", ["EVALSHA", sha, "0"]);
    expect(r.status).toBe(400);
    expect((r.body as { error: string }).error).toMatch(/NOSCRIPT/);

    const client = new Redis({
      url: bridge.url,
      token: bridge.token,
      automaticDeserialization: false,
      retry: false,
    });
    const src = `return "nos" .. ARGV[1] -- ${Date.now()}`;
    await post("", ["SCRIPT", "FLUSH"]);
    const script = client.createScript<string>(src);
    expect(await script.exec([], ["cript"])).toBe("noscript");
    const exists = await post("", ["SCRIPT", "EXISTS", script.sha1]);
    expect(exists.body).toEqual({ result: [1] });
    expect(await script.exec([], ["!"])).toBe("nos!");
  });

  it("works under @upstash/redis with auto-pipelining and base64 (its defaults)", async () => {
    const client = new Redis({ url: bridge.url, token: bridge.token, retry: false });
    const [x, y] = await Promise.all([client.set("br:c", { a: "é" }), client.get("br:c")]);
    expect(x).toBe("OK");
    expect(y).toEqual({ a: "é" });
    const bad = new Redis({ url: bridge.url, token: "wrong", retry: false });
    await expect(bad.ping()).rejects.toThrow(/Unauthorized/);
  });

  it("fails fast while redis-server is down and recovers when it is back", async () => {
    await post("", ["SET", "br:d", "kept"]);
    await redis.stop();
    const down = await post("", ["GET", "br:d"]);
    expect(down.status).toBe(500);
    await redis.start();
    let back = down;
    for (let i = 0; i < 100 && back.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      back = await post("", ["GET", "br:d"]);
    }
    expect(back).toEqual({ status: 200, body: { result: "kept" } });
  });
});
