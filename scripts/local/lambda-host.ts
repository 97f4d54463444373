import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  type APIGatewayProxyResult,
  defaultIsContentTypeBinary,
  type LambdaContext,
  type LambdaEvent,
} from "hono/aws-lambda";
import { listenOnLoopback } from "./loopback.ts";

/**
 * A local stand-in for API Gateway HTTP API in front of a Lambda: each HTTP request becomes a
 * payload format 2.0 event, and the handler's result becomes the HTTP response, so the bundle we
 * deploy runs locally through the same event mapping as in AWS.
 */
export type HttpApiEvent = Extract<LambdaEvent, { rawPath: string }>;
export type LambdaHttpHandler = (
  event: HttpApiEvent,
  context: LambdaContext,
) => Promise<APIGatewayProxyResult>;

/** Lambda's synchronous invocation payload limit; larger requests never reach the function. */
const PAYLOAD_MAX_BYTES = 6 * 1024 * 1024;
/** Reported by context.getRemainingTimeInMillis(): the API Gateway HTTP API integration limit. */
const TIMEOUT_MS = 30_000;
const MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");

export interface LambdaHost {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function serveLambda(
  handler: LambdaHttpHandler,
  opts: { port?: number; functionName?: string } = {},
): Promise<LambdaHost> {
  const name = opts.functionName ?? "tessera";
  const server = createServer((req, res) => {
    invoke(handler, name, req, res).catch((e: unknown) => {
      // API Gateway's answer when the function throws.
      console.error(`[lambda-host] ${name} failed:`, e);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end('{"message":"Internal Server Error"}');
    });
  });
  const { port, close } = await listenOnLoopback(server, opts.port ?? 0);
  return { url: `http://127.0.0.1:${port}`, port, close };
}

async function invoke(
  h: LambdaHttpHandler,
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > PAYLOAD_MAX_BYTES) {
      res.writeHead(413, { "content-type": "application/json" });
      return res.end('{"message":"Request Entity Too Large"}');
    }
    chunks.push(c);
  }
  const id = randomUUID();
  const deadline = Date.now() + TIMEOUT_MS;
  const out = await h(toHttpApiEvent(req, Buffer.concat(chunks), id), {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: "1024",
    awsRequestId: id,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "local",
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  });
  const headers: Record<string, string | string[]> = { ...(out.headers ?? {}) };
  for (const [k, v] of Object.entries(out.multiValueHeaders ?? {})) headers[k] = v;
  if (out.cookies?.length) headers["set-cookie"] = out.cookies;
  res.writeHead(out.statusCode, headers);
  res.end(Buffer.from(out.body ?? "", out.isBase64Encoded ? "base64" : "utf8"));
}

/** Maps a Node request to an API Gateway HTTP API payload 2.0 event. */
export function toHttpApiEvent(
  req: IncomingMessage,
  body: Buffer,
  requestId: string,
): HttpApiEvent {
  const raw = req.url ?? "/";
  const q = raw.indexOf("?");
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const rawQueryString = q < 0 ? "" : raw.slice(q + 1);
  // Payload 2.0 joins repeated headers and query parameters with commas and moves cookies out of
  // the headers into their own list.
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headersDistinct)) {
    if (k !== "cookie" && v) headers[k] = v.join(",");
  }
  const cookies = (req.headersDistinct.cookie ?? []).flatMap((c) =>
    c
      .split(";")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) {
    params[k] = params[k] === undefined ? v : `${params[k]},${v}`;
  }
  const type = headers["content-type"];
  const binary = type === undefined || defaultIsContentTypeBinary(type);
  const host = headers.host ?? "localhost";
  const now = new Date();
  const event = {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString,
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(rawQueryString ? { queryStringParameters: params } : {}),
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      authentication: null,
      authorizer: {},
      domainName: host,
      domainPrefix: host.split(".")[0] ?? host,
      http: {
        method: req.method ?? "GET",
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey: "$default",
      stage: "$default",
      time: clf(now),
      timeEpoch: now.getTime(),
    },
    // API Gateway leaves `body` out when there is none.
    ...(body.length ? { body: body.toString(binary ? "base64" : "utf8") } : {}),
    isBase64Encoded: body.length > 0 && binary,
  };
  return event as HttpApiEvent;
}

/** Request time as API Gateway writes it: 12/Mar/2020:19:03:58 +0000. */
function clf(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
