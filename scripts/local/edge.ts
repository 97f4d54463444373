import {
  createServer,
  request as httpRequest,
  type OutgoingHttpHeaders,
  type Server,
} from "node:http";
import { listenOnLoopback } from "./loopback.ts";

/**
 * What each platform's edge tells the function about the client, done locally the way the
 * platform does it: the edge OVERWRITES its client-address header with the address of the
 * connection, so whatever a client sends under that name never reaches the app. Cloudflare sets
 * CF-Connecting-IP; Vercel sets x-real-ip and x-vercel-forwarded-for. (API Gateway passes the
 * address in the event instead, see lambda-host.ts.) Without this, a local client could choose
 * the address the rate limits key on, which it cannot do on the real platforms.
 */
export const EDGE_ADDRESS_HEADERS = {
  cloudflare: ["cf-connecting-ip"],
  vercel: ["x-real-ip", "x-vercel-forwarded-for"],
} as const;

export function socketAddress(req: { socket: { remoteAddress?: string | undefined } }): string {
  return (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
}

/**
 * A Web Request with the platform's address headers set from the connection. Always of the
 * runtime's own Request class, made from the parts (streamed body, `duplex: "half"`, as Vercel's
 * launcher builds it), so it also accepts @hono/node-server's lightweight request objects.
 */
export function withEdgeAddress(req: Request, names: readonly string[], address: string): Request {
  const headers = new Headers(req.headers);
  for (const n of names) headers.set(n, address);
  return new Request(req.url, {
    method: req.method,
    headers,
    body: req.body,
    signal: req.signal,
    duplex: "half",
  } as RequestInit);
}

export interface EdgeFront {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * An HTTP front on `port` that forwards every request to `upstreamPort` (streaming both ways),
 * with the address headers set from the client's connection. Used in front of Miniflare, whose
 * entry worker keeps a client-sent CF-Connecting-IP where Cloudflare's edge replaces it.
 */
export async function startEdgeFront(o: {
  port: number;
  upstreamPort: () => number;
  names: readonly string[];
}): Promise<EdgeFront> {
  const server: Server = createServer((req, res) => {
    const headers: OutgoingHttpHeaders = { ...req.headers };
    for (const n of o.names) headers[n] = socketAddress(req);
    const up = httpRequest(
      {
        host: "127.0.0.1",
        port: o.upstreamPort(),
        method: req.method,
        path: req.url,
        headers,
      },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    // The runtime went away mid-request: the client sees a dropped connection, as it would.
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  return listenOnLoopback(server, o.port);
}
