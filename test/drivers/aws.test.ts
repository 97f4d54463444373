import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoAcceptor } from "../../adapters/aws/acceptor-dynamodb.ts";
import { S3Blobs } from "../../adapters/aws/blobs-s3.ts";
import { type AwsLocalProvider, startAws } from "../../scripts/local/aws.ts";
import {
  DYNALITE_CREDENTIALS,
  LOCAL_REGION,
  type LocalDynalite,
  startDynalite,
} from "../../scripts/local/dynalite.ts";
import { type LocalS3rver, S3RVER_CREDENTIALS, startS3rver } from "../../scripts/local/s3rver.ts";
import { makeTestCluster } from "../../scripts/local/throwaway-cluster.ts";
import { encodeBallot } from "../../shared/quorum/ballot.ts";
import { acceptorContract, blobContract } from "./contract.ts";

const TABLE = "tessera-test";
const BUCKET = "tessera-test";

let dir: string;
let db: LocalDynalite;
let s3: LocalS3rver;
let acceptor: DynamoAcceptor;
let blobs: S3Blobs;
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-aws-"));
  [db, s3] = await Promise.all([
    startDynalite({ dataDir: join(dir, "dynalite"), table: TABLE }),
    startS3rver({ dataDir: join(dir, "s3rver"), bucket: BUCKET }),
  ]);
  const dc = new DynamoDBClient({
    endpoint: db.endpoint,
    region: LOCAL_REGION,
    credentials: DYNALITE_CREDENTIALS,
  });
  const sc = new S3Client({
    endpoint: s3.endpoint,
    region: LOCAL_REGION,
    credentials: S3RVER_CREDENTIALS,
    forcePathStyle: true,
  });
  clients.push(dc, sc);
  acceptor = new DynamoAcceptor({ client: dc, table: TABLE });
  blobs = new S3Blobs({ client: sc, bucket: BUCKET });
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await Promise.all([db?.stop(), s3?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

acceptorContract("dynamodb", { acceptor: () => acceptor });
blobContract("s3", { acceptor: () => acceptor, blobs: () => blobs });

const b = (n: number) => encodeBallot({ counter: n, proposer: "p1" });

describe("dynamodb acceptor specifics", () => {
  it("scans across partitions in global key order, even when partitions interleave", async () => {
    // "r/a/x" (partition r/a) sorts after "r/a-b/y" (partition r/a-b) and "r/a/b/z" (partition
    // r/a/b), although partition r/a sorts first: a scan must merge, not concatenate.
    const p = `scan${Date.now().toString(36)}/`;
    const keys = ["a/x", "a-b/y", "a/b/z", "a/b/a", "ab", "a", "a/b/c/d", "b"].map((k) => p + k);
    await acceptor.accept(keys.map((key) => ({ key, ballot: b(1), value: `"${key}"` })));
    const all = [...keys].sort();
    for (const limit of [1, 2, 3, 100]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await acceptor.scan(p, { limit, ...(cursor ? { cursor } : {}) });
        seen.push(...page.records.map((r) => r.key));
        cursor = page.cursor;
      } while (cursor);
      expect(seen).toEqual(all);
    }
    expect((await acceptor.scan(`${p}a/`)).records.map((r) => r.key)).toEqual(
      all.filter((k) => k.startsWith(`${p}a/`)),
    );
    expect((await acceptor.scan(`${p}a/b`)).records.map((r) => r.key)).toEqual(
      all.filter((k) => k.startsWith(`${p}a/b`)),
    );
  });

  it("scans keys without any '/' (partition _) and promise-only records", async () => {
    const k = `solo${Date.now().toString(36)}`;
    await acceptor.prepare({ keys: [k], ballot: b(3) });
    expect((await acceptor.scan(k)).records).toEqual([
      { key: k, promised: b(3), accepted: "", value: null },
    ]);
  });

  it("round-trips an empty string value and reads duplicate keys", async () => {
    const k = `dup${Date.now().toString(36)}/1`;
    await acceptor.accept([{ key: k, ballot: b(1), value: "" }]);
    const rd = await acceptor.read([k, k]);
    expect(rd.map((r) => r.value)).toEqual(["", ""]);
  });

  it("reads more than one BatchGetItem's worth of keys in request order", async () => {
    const p = `many${Date.now().toString(36)}/`;
    const keys = Array.from({ length: 150 }, (_, i) => `${p}${i}`);
    await acceptor.accept(keys.slice(0, 100).map((key) => ({ key, ballot: b(1), value: key })));
    await acceptor.accept(keys.slice(100).map((key) => ({ key, ballot: b(1), value: key })));
    const rd = await acceptor.read([...keys].reverse());
    expect(rd.map((r) => r.value)).toEqual([...keys].reverse());
  });
});

describe("aws local provider", () => {
  let provider: AwsLocalProvider;
  let pdir: string;

  beforeAll(async () => {
    pdir = await mkdtemp(join(tmpdir(), "tessera-aws-provider-"));
    const tc = await makeTestCluster();
    provider = await startAws({ port: 0, dataDir: pdir, env: tc.envFor("aws") });
  });

  afterAll(async () => {
    await provider?.stop();
    if (pdir) await rm(pdir, { recursive: true, force: true });
  });

  const health = async () => {
    const r = await fetch(`${provider.url}/health`);
    return { status: r.status, body: (await r.json()) as { store: { name: string; ok: boolean } } };
  };

  it("answers /health with the dynamodb store up", async () => {
    const h = await health();
    expect(h.status).toBe(200);
    expect(h.body.store).toMatchObject({ name: "dynamodb", ok: true });
  });

  it("reports the store down while dynalite is stopped and recovers with data intact", async () => {
    const { dynamodb, s3: store } = provider.stores;
    const dc = new DynamoDBClient({
      endpoint: dynamodb.endpoint,
      region: LOCAL_REGION,
      credentials: DYNALITE_CREDENTIALS,
    });
    const sc = new S3Client({
      endpoint: store.endpoint,
      region: LOCAL_REGION,
      credentials: S3RVER_CREDENTIALS,
      forcePathStyle: true,
    });
    clients.push(dc, sc);
    const a = new DynamoAcceptor({ client: dc, table: dynamodb.table });
    const bl = new S3Blobs({ client: sc, bucket: store.bucket });
    await a.accept([{ key: "seat/e1/s1/1", ballot: b(4), value: '"sold"' }]);
    await bl.put("audit/1.json", "{}");

    await provider.standIns.dynalite!.stop();
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body.store).toMatchObject({ name: "dynamodb", ok: false });
    await provider.standIns.dynalite!.start();
    const up = await health();
    expect(up.status).toBe(200);
    expect(up.body.store.ok).toBe(true);
    expect(await a.read(["seat/e1/s1/1"])).toEqual([
      { key: "seat/e1/s1/1", promised: b(4), accepted: b(4), value: '"sold"' },
    ]);

    await provider.standIns.s3rver!.stop();
    await expect(bl.get("audit/1.json")).rejects.toThrow();
    await provider.standIns.s3rver!.start();
    expect(new TextDecoder().decode((await bl.get("audit/1.json"))!)).toBe("{}");
  });
});
