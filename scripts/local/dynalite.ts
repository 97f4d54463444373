import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ensureTable } from "../../adapters/aws/provision.ts";

/** dynalite ships no types: the slice of its API we use. */
type Dynalite = (opts: { path?: string; createTableMs?: number }) => Server;
const dynalite = createRequire(import.meta.url)("dynalite") as Dynalite;

/** Real DynamoDB keeps a new table CREATING for seconds; locally there is nothing to wait for. */
const CREATE_TABLE_MS = 0;
/** Any credentials do for dynalite; the SDK only needs some to sign with. */
export const DYNALITE_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;
export const LOCAL_REGION = "us-east-1";

/** A stand-in server that chaos tooling may stop and start again on the same port and data. */
export interface LocalDynalite {
  readonly endpoint: string;
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface DynaliteOptions {
  /** LevelDB folder (created if missing); data survives stop/start and process restarts. */
  readonly dataDir: string;
  /** 0 or absent = a free port, kept across restarts. */
  readonly port?: number;
  /** Table created when missing. */
  readonly table: string;
}

/** Starts dynalite in-process on loopback and makes sure the table exists. */
export async function startDynalite(opts: DynaliteOptions): Promise<LocalDynalite> {
  await mkdir(opts.dataDir, { recursive: true });
  let port = opts.port ?? 0;
  let server: Server | undefined;

  const start = async () => {
    if (server) return;
    const s = dynalite({ path: opts.dataDir, createTableMs: CREATE_TABLE_MS });
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    await new Promise<void>((resolve, reject) => {
      s.close((e) => (e ? reject(e) : resolve()));
      // Drop the SDK's keep-alive sockets now, like a crashed store would, instead of waiting.
      s.closeAllConnections();
    });
  };

  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: DYNALITE_CREDENTIALS,
  });
  try {
    await ensureTable(client, opts.table);
  } finally {
    client.destroy();
  }
  return { endpoint, port, start, stop };
}
