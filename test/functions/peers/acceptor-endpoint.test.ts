import { describe, expect, it } from "vitest";
import { createApp } from "../../../functions/app.ts";
import { RemoteAcceptor } from "../../../functions/peers/remote-acceptor.ts";
import { instanceReplyKeys } from "../../../functions/peers/reply-keys.ts";
import { makeTestCluster } from "../../../scripts/local/throwaway-cluster.ts";
import { signRequest } from "../../../shared/crypto/http-signature.ts";
import { encodeBallot } from "../../../shared/quorum/ballot.ts";
import { MemoryAcceptor, MemoryBlobs } from "../../../shared/storage/memory.ts";

const tc = await makeTestCluster();
const now = { ms: Date.UTC(2026, 10, 25, 12) };
const acceptor = new MemoryAcceptor();
const app = createApp({
  provider: "aws",
  cluster: tc.cluster,
  signingKey: tc.keys.aws,
  settings: tc.settingsFor("aws"),
  acceptor,
  blobs: new MemoryBlobs(),
  storeName: "memory",
  now: () => now.ms,
});
// The Cloudflare coordinator's view of the AWS acceptor, with fetch going straight into the app.
const inProcess = ((input: RequestInfo | URL, init?: RequestInit) =>
  app.request(new Request(input, init))) as typeof fetch;
const remote = (key = tc.keys.cloudflare) =>
  new RemoteAcceptor({
    to: "aws",
    url: "http://aws.test",
    key,
    now: () => now.ms,
    fetch: inProcess,
  });
const ballot = encodeBallot({ counter: 1, proposer: "cf1" });

async function signed(
  body: unknown,
  opts: { createdS?: number; nonce?: string; to?: string } = {},
) {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  const headers = await signRequest({
    method: "POST",
    path: "/internal/acceptor/prepare",
    body: bytes,
    to: opts.to ?? "aws",
    key: tc.keys.cloudflare,
    createdS: opts.createdS ?? Math.floor(now.ms / 1000),
    nonce: opts.nonce ?? crypto.randomUUID().replaceAll("-", ""),
    replyKey: (await instanceReplyKeys()).publicKey,
  });
  return { bytes, headers };
}
const post = (bytes: Uint8Array, headers: Record<string, string>) =>
  app.request("http://aws.test/internal/acceptor/prepare", {
    method: "POST",
    headers,
    body: bytes as BodyInit,
  });

describe("internal acceptor endpoint", () => {
  it("serves a correctly signed peer", async () => {
    const r = await remote().prepare({ keys: ["seat/e1/a/1"], ballot });
    expect(r).toEqual([{ ok: true, key: "seat/e1/a/1", accepted: "", value: null }]);
  });

  it("deletes a peer's untouched tombstone for a signed collector (deleteIf)", async () => {
    const key = "hold/e1/h-dead";
    const next = encodeBallot({ counter: 2, proposer: "cf1" });
    await acceptor.accept([{ key, ballot, value: null, next }]);
    const r = await remote().deleteIf([
      { key, accepted: ballot, promised: ballot },
      { key, accepted: ballot, promised: next },
    ]);
    expect(r).toEqual([
      { ok: false, key },
      { ok: true, key },
    ]);
    expect(acceptor.records.has(key)).toBe(false);
  });

  it("refuses unsigned calls with 401 problem+json and changes nothing", async () => {
    const r = await app.request("http://aws.test/internal/acceptor/prepare", {
      method: "POST",
      body: JSON.stringify({ keys: ["seat/e1/a/2"], ballot }),
    });
    expect(r.status).toBe(401);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
    expect(acceptor.records.has("seat/e1/a/2")).toBe(false);
  });

  it("refuses a key that is not in the cluster configuration", async () => {
    const stranger = { ...tc.keys.cloudflare, ...(await makeTestCluster()).keys.cloudflare };
    await expect(remote(stranger).prepare({ keys: ["seat/e1/a/3"], ballot })).rejects.toThrow(
      /401.*unknown key/,
    );
    expect(acceptor.records.has("seat/e1/a/3")).toBe(false);
  });

  it("refuses a forged signature (right kid, wrong key)", async () => {
    const other = (await makeTestCluster()).keys.cloudflare;
    const forged = { ...other, kid: tc.keys.cloudflare.kid };
    await expect(remote(forged).prepare({ keys: ["seat/e1/a/4"], ballot })).rejects.toThrow(
      /401.*bad signature/,
    );
    expect(acceptor.records.has("seat/e1/a/4")).toBe(false);
  });

  it("refuses a tampered body", async () => {
    const { headers } = await signed({ keys: ["seat/e1/a/5"], ballot });
    const evil = new TextEncoder().encode(JSON.stringify({ keys: ["seat/e1/a/6"], ballot }));
    const r = await post(evil, headers);
    expect(r.status).toBe(401);
    expect(acceptor.records.has("seat/e1/a/6")).toBe(false);
  });

  it("refuses expired and future-dated signatures", async () => {
    for (const skew of [-120, 120]) {
      const createdS = Math.floor(now.ms / 1000) + skew;
      const { bytes, headers } = await signed({ keys: ["seat/e1/a/7"], ballot }, { createdS });
      const r = await post(bytes, headers);
      expect(r.status).toBe(401);
      expect(((await r.json()) as { detail: string }).detail).toMatch(/expired|future/);
    }
    expect(acceptor.records.has("seat/e1/a/7")).toBe(false);
  });

  it("refuses a replayed call", async () => {
    const { bytes, headers } = await signed({ keys: ["seat/e1/a/8"], ballot });
    expect((await post(bytes, headers)).status).toBe(200);
    const before = acceptor.records.get("seat/e1/a/8");
    const again = await post(bytes, headers);
    expect(again.status).toBe(401);
    expect(((await again.json()) as { detail: string }).detail).toBe("replayed nonce");
    expect(acceptor.records.get("seat/e1/a/8")).toEqual(before);
  });

  it("refuses a call addressed to another provider", async () => {
    const { bytes, headers } = await signed({ keys: ["seat/e1/a/9"], ballot }, { to: "vercel" });
    expect((await post(bytes, headers)).status).toBe(401);
  });

  it("refuses a call without a reply key, or whose reply key was swapped", async () => {
    const { bytes, headers } = await signed({ keys: ["seat/e1/a/10"], ballot });
    const { "tessera-reply-key": _dropped, ...without } = headers;
    expect((await post(bytes, without)).status).toBe(401);
    const swapped = { ...headers, "tessera-reply-key": `B${"A".repeat(86)}` };
    expect((await post(bytes, swapped)).status).toBe(401);
    expect(acceptor.records.has("seat/e1/a/10")).toBe(false);
  });

  it("answers a signed but invalid body with 400 problem+json", async () => {
    const { bytes, headers } = await signed({ keys: [], ballot: "nope" });
    const r = await post(bytes, headers);
    expect(r.status).toBe(400);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
  });
});
