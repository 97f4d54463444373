import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCAN_PARTITIONS_MAX } from "../../adapters/cloudflare/acceptor-durable-objects.ts";
import { startCloudflare } from "../../scripts/local/cloudflare.ts";
import { makeTestCluster } from "../../scripts/local/throwaway-cluster.ts";
import { encodeBallot } from "../../shared/quorum/ballot.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import {
  type CloudflareHarness,
  startCloudflareHarness,
} from "../support/cloudflare-harness-client.ts";
import { acceptorContract, blobContract } from "./contract.ts";

/** Tests that bundle and start workerd several times: generous, as a busy 2-core CI is slow. */
const SLOW_MS = 120_000;

let h: CloudflareHarness;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "tessera-cf-"));
  h = await startCloudflareHarness();
});
afterAll(async () => {
  await h?.dispose();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

acceptorContract("durable-objects", { acceptor: () => h.acceptor });
blobContract("r2", { acceptor: () => h.acceptor, blobs: () => h.blobs });

const b1 = encodeBallot({ counter: 1, proposer: "p1" });
let run = 0;
const ns = (name: string) => `cf${Date.now().toString(36)}${run++}${name}`;

async function scanAll(a: AcceptorPort, prefix: string, limit: number) {
  const keys: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await a.scan(prefix, { limit, ...(cursor ? { cursor } : {}) });
    keys.push(...page.records.map((r) => r.key));
    cursor = page.cursor;
    pages++;
  } while (cursor && pages < 100);
  return { keys, pages };
}

describe("durable-objects partitioning", () => {
  it("puts keys of different partitions in different objects, one partition in one", async () => {
    const p = ns("/ev1");
    const [a1, a2, other] = [`${p}/A/1`, `${p}/A/2`, `${p}/B/1`];
    await h.acceptor.accept([a1, other, a2].map((key) => ({ key, ballot: b1, value: "1" })));
    const [pa1, pa2, pb] = await Promise.all([a1, a2, other].map((k) => h.placement(k)));
    expect(pa1?.objectId).toBe(pa2?.objectId);
    expect(pa1?.objectId).not.toBe(pb?.objectId);
    expect(pa1?.keys).toEqual([a1, a2]);
    expect(pb?.keys).toEqual([other]);
  });

  it("scans nested partitions and keys without a '/' in global key order", async () => {
    const p = ns("");
    const keys = [
      `${p}/a/x`,
      `${p}/a/b/y`,
      `${p}/a/z`,
      `${p}/a/b/c/w`,
      `${p}/ab/q`,
      `${p}/a!/k`,
      `${p}/a/b0`,
      `${p}float`, // no inner "/": the fallback partition, spread over the key space
    ];
    await h.acceptor.accept(keys.map((key) => ({ key, ballot: b1, value: "1" })));
    const sorted = [...keys].sort();
    for (const limit of [1, 2, 3, 100]) {
      expect((await scanAll(h.acceptor, p, limit)).keys).toEqual(sorted);
    }
    expect((await scanAll(h.acceptor, `${p}/a/`, 2)).keys).toEqual(
      sorted.filter((k) => k.startsWith(`${p}/a/`)),
    );
    expect((await scanAll(h.acceptor, `${p}/a/b`, 2)).keys).toEqual(
      sorted.filter((k) => k.startsWith(`${p}/a/b`)),
    );
  });

  it("pages across more partitions than one page may visit, empty ones included", async () => {
    const p = ns("/many");
    const n = SCAN_PARTITIONS_MAX + 8;
    const keys = Array.from({ length: n }, (_, i) => `${p}/s${String(i).padStart(3, "0")}/1`);
    // Half the partitions hold only a promise (a prepare and no accept): still records to scan.
    await h.acceptor.prepare({ keys: keys.filter((_, i) => i % 2 === 0), ballot: b1 });
    await h.acceptor.accept(
      keys.filter((_, i) => i % 2 === 1).map((key) => ({ key, ballot: b1, value: "1" })),
    );
    const all = await scanAll(h.acceptor, `${p}/`, 1000);
    expect(all.keys).toEqual(keys);
    expect(all.pages).toBeGreaterThan(1);
  });
  it(
    "scans like the in-memory reference for any key set, prefix and page size",
    async () => {
      // Few symbols, '/' among them, so that random keys nest partitions and hit the fallback one.
      const seg = fc.string({ unit: fc.constantFrom("a", "b", "/", "!", "0"), maxLength: 5 });
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(seg, { minLength: 1, maxLength: 20 }),
          // The prefix: mostly a cut of one of the keys (so that it matches something), else random.
          fc.oneof(fc.tuple(fc.nat(), fc.nat()), seg),
          fc.integer({ min: 1, max: 6 }),
          async (suffixes, cut, limit) => {
            const base = ns("q");
            const keys = suffixes.map((s) => base + s);
            const entries = keys.map((key) => ({ key, ballot: b1, value: `"${key}"` }));
            const ref = new MemoryAcceptor();
            await Promise.all([h.acceptor.accept(entries), ref.accept(entries)]);
            const from = suffixes[typeof cut === "string" ? 0 : cut[0] % suffixes.length] ?? "";
            const prefixSuffix =
              typeof cut === "string" ? cut : from.slice(0, cut[1] % (from.length + 1));
            const prefix = base + prefixSuffix;
            const [got, want] = await Promise.all([
              scanAll(h.acceptor, prefix, limit),
              scanAll(ref, prefix, limit),
            ]);
            expect(got.keys).toEqual(want.keys);
          },
        ),
        { numRuns: 30 },
      );
    },
    SLOW_MS,
  );
});

describe("startCloudflare", () => {
  it(
    "serves /health on durable-objects, restarts workerd on the same port and keeps data",
    async () => {
      const dataDir = join(tmp, "cf");
      const key = ns("/persist/1");
      // Write through the real drivers into the data folder the provider will use, then stop.
      const writer = await startCloudflareHarness(dataDir);
      await writer.acceptor.accept([{ key, ballot: b1, value: '"kept"' }]);
      await writer.blobs.put(`${key}.json`, '{"kept":true}');
      await writer.dispose();

      const tc = await makeTestCluster();
      const cf = await startCloudflare({ port: 0, dataDir, env: tc.envFor("cloudflare") });
      try {
        const health = async () => {
          const r = await fetch(`${cf.url}/health`);
          return {
            status: r.status,
            body: (await r.json()) as { store: { name: string; ok: boolean } },
          };
        };
        const before = await health();
        expect(before.status).toBe(200);
        expect(before.body.store).toMatchObject({ name: "durable-objects", ok: true });

        await cf.standIns.workerd?.stop();
        await expect(fetch(`${cf.url}/livez`)).rejects.toThrow();
        await cf.standIns.workerd?.start();
        const after = await health();
        expect(after.status).toBe(200);
        expect(after.body.store).toMatchObject({ name: "durable-objects", ok: true });
      } finally {
        await cf.stop();
      }

      const reader = await startCloudflareHarness(dataDir);
      try {
        expect(await reader.acceptor.read([key])).toEqual([
          { key, promised: b1, accepted: b1, value: '"kept"' },
        ]);
        expect(new TextDecoder().decode((await reader.blobs.get(`${key}.json`))!)).toBe(
          '{"kept":true}',
        );
      } finally {
        await reader.dispose();
      }
    },
    SLOW_MS,
  );

  it(
    "answers every request with a 500 problem naming the bad variable",
    async () => {
      const tc = await makeTestCluster();
      const env = { ...tc.envFor("cloudflare"), TESSERA_SIGNING_KEY: "not json" };
      const cf = await startCloudflare({ port: 0, dataDir: join(tmp, "bad"), env });
      try {
        const r = await fetch(`${cf.url}/livez`);
        expect(r.status).toBe(500);
        expect(r.headers.get("content-type")).toBe("application/problem+json");
        const body = (await r.json()) as { detail: string };
        expect(body.detail).toContain("TESSERA_SIGNING_KEY");
      } finally {
        await cf.stop();
      }
    },
    SLOW_MS,
  );
});
