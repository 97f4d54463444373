import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";

/** s3rver ships no types: the slice of its API we use. */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverClass = new (opts: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}) => S3rverInstance;
const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;

/** s3rver checks signatures against this fixed key pair only. */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export interface LocalS3rver {
  readonly endpoint: string;
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface S3rverOptions {
  /** Folder holding the buckets as plain files (created if missing); survives restarts. */
  readonly dataDir: string;
  /** 0 or absent = a free port, kept across restarts. */
  readonly port?: number;
  /** Bucket created when missing. */
  readonly bucket: string;
}

/** Starts s3rver in-process on loopback with the bucket present. Clients need forcePathStyle. */
export async function startS3rver(opts: S3rverOptions): Promise<LocalS3rver> {
  await mkdir(opts.dataDir, { recursive: true });
  let port = opts.port ?? 0;
  let server: S3rverInstance | undefined;

  const start = async () => {
    if (server) return;
    const s = new S3rver({
      address: "127.0.0.1",
      port,
      directory: opts.dataDir,
      silent: true,
      // configureBuckets creates the bucket only when missing and keeps existing objects.
      configureBuckets: [{ name: opts.bucket }],
    });
    port = (await s.run()).port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closing = s.close();
    // Drop keep-alive sockets now, like a crashed store would, instead of waiting for them.
    s.httpServer?.closeAllConnections();
    await closing;
  };

  await start();
  return { endpoint: `http://127.0.0.1:${port}`, port, start, stop };
}
