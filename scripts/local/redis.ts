import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { connect, createServer } from "node:net";

/**
 * A real redis-server (the Debian package) as the local stand-in for Upstash Redis. It keeps an
 * append-only file fsynced before every reply, so an accept the acceptor acknowledged survives a
 * kill of the server, exactly what the quorum needs from an acceptor.
 */
export interface LocalRedis {
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL after STOP_GRACE_MS); idempotent. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL (no shutdown work), as a machine crash would; idempotent. */
  crash(): Promise<void>;
  /** Starts it again on the same port and data folder; the data survives. */
  start(): Promise<void>;
}

const REDIS_BIN_CANDIDATES = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];
export const REDIS_MISSING =
  "redis-server not found: install it with `sudo apt-get install -y redis-server`";
/** Replaying a large AOF can take a while on a slow CI machine. */
const READY_TIMEOUT_MS = 20_000;
const READY_POLL_MS = 50;
/** A clean shutdown rewrites nothing (AOF is already fsynced), so a few seconds is plenty. */
const STOP_GRACE_MS = 5_000;

function findRedisServer(): string {
  const bin = REDIS_BIN_CANDIDATES.find((p) => existsSync(p));
  if (!bin) throw new Error(REDIS_MISSING);
  return bin;
}

/** Asks the OS for a free loopback port. Another process may grab it before redis binds it; the
 * start then fails loudly instead of talking to a stranger. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port")),
      );
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: "127.0.0.1" });
    let buf = "";
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once("error", () => done(false));
    sock.once("connect", () => sock.write("PING\r\n"));
    sock.on("data", (d) => {
      buf += d.toString();
      // "-LOADING" while the AOF is replayed: not ready yet.
      if (buf.includes("\r\n")) done(buf.startsWith("+PONG"));
    });
  });
}

export async function startRedis(opts: { dataDir: string; port?: number }): Promise<LocalRedis> {
  const bin = findRedisServer();
  await mkdir(opts.dataDir, { recursive: true });
  const port = opts.port || (await freePort());
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  // A crashed test run must not leave redis-server processes behind.
  const killOnExit = () => child?.kill("SIGKILL");

  const start = async (): Promise<void> => {
    if (child) return;
    // biome-ignore format: flag/value pairs read best side by side
    const args = [
      "--port", String(port),
      "--bind", "127.0.0.1",
      "--dir", opts.dataDir,
      "--appendonly", "yes",
      "--appendfsync", "always",
      "--save", "",
      "--daemonize", "no",
      "--logfile", "",
    ];
    const proc = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    let output = "";
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    };
    proc.stdout?.on("data", keep);
    proc.stderr?.on("data", keep);
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    let gone = false;
    void exited.then(() => {
      gone = true;
      if (child === proc) child = undefined;
    });
    process.off("exit", killOnExit);
    process.once("exit", killOnExit);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await ping(port))) {
      if (gone || Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`redis-server on port ${port} did not start:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc) return;
    process.off("exit", killOnExit);
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return { port, start, stop: () => halt("SIGTERM"), crash: () => halt("SIGKILL") };
}
