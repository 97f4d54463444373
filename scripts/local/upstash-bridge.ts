import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis, ReplyError } from "ioredis";

/**
 * The part of the Upstash REST protocol that @upstash/redis speaks, in front of a real redis-server,
 * so the Vercel adapter runs locally on the very client it uses in production:
 * `POST /` one command as a JSON array, `POST /pipeline` and `POST /multi-exec` arrays of them,
 * bearer token, `{result}` / `{error}` replies, string results base64-encoded when the client sends
 * `Upstash-Encoding: base64` (its default, so binary and non-UTF-8 data survive JSON).
 */
export interface UpstashBridge {
  readonly url: string;
  readonly token: string;
  stop(): Promise<void>;
}

type Reply = string | number | null | Reply[];

/** Upstash's largest request (Free and Pay-as-you-go); a bigger one is refused as it is there. */
const BODY_MAX_BYTES = 10 * 1024 * 1024;
/** Reconnect quickly once redis-server is back (chaos tests stop and start it). */
const RECONNECT_MAX_MS = 500;

function encode(v: unknown, base64: boolean): Reply {
  if (v === null || v === undefined) return null;
  if (typeof v === "number") return v;
  if (Buffer.isBuffer(v)) return base64 ? v.toString("base64") : v.toString("utf8");
  if (Array.isArray(v)) return v.map((x) => encode(x, base64));
  if (v instanceof Error) return v.message;
  return String(v);
}

function toArgs(cmd: unknown): [string, ...string[]] {
  if (!Array.isArray(cmd) || typeof cmd[0] !== "string") throw new Error("ERR bad command");
  return cmd.map((a) => (typeof a === "string" ? a : JSON.stringify(a))) as [string, ...string[]];
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > BODY_MAX_BYTES) throw new Error("ERR max request size exceeded");
    chunks.push(c);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

export async function startUpstashBridge(opts: { redisPort: number }): Promise<UpstashBridge> {
  const token = randomBytes(24).toString("base64url");
  const expected = Buffer.from(`Bearer ${token}`);
  // No offline queue: while redis-server is down a command fails at once (as Upstash answers an
  // error) instead of hanging until it comes back.
  const redis = new Redis({
    port: opts.redisPort,
    host: "127.0.0.1",
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(times * 50, RECONNECT_MAX_MS),
  });
  await new Promise<void>((resolve, reject) => {
    redis.once("ready", resolve);
    redis.once("error", reject);
  });
  redis.on("error", () => {}); // connection loss is reported per request, not as a crash

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const auth = Buffer.from(req.headers.authorization ?? "");
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) {
      return send(res, 401, { error: "Unauthorized" });
    }
    const base64 = req.headers["upstash-encoding"] === "base64";
    const path = new URL(req.url ?? "/", "http://bridge").pathname.replace(/\/+$/, "");
    try {
      const body = await readJson(req);
      if (req.method !== "POST") return send(res, 405, { error: "ERR only POST is supported" });
      if (path === "") {
        const [name, ...args] = toArgs(body);
        return send(res, 200, { result: encode(await redis.callBuffer(name, ...args), base64) });
      }
      if (path !== "/pipeline" && path !== "/multi-exec") {
        return send(res, 404, { error: `ERR unknown path ${path}` });
      }
      if (!Array.isArray(body) || body.length === 0) throw new Error("ERR empty pipeline");
      const batch = path === "/multi-exec" ? redis.multi() : redis.pipeline();
      for (const cmd of body) {
        const [name, ...args] = toArgs(cmd);
        batch.callBuffer(name, ...args);
      }
      const results = (await batch.exec()) ?? [];
      return send(
        res,
        200,
        results.map(([err, r]) => (err ? { error: err.message } : { result: encode(r, base64) })),
      );
    } catch (e) {
      // A Redis error reply is the caller's (400, like Upstash); anything else is the store's.
      const status = e instanceof ReplyError || e instanceof SyntaxError ? 400 : 500;
      return send(res, status, { error: e instanceof Error ? e.message : String(e) });
    }
  };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
    },
  };
}
