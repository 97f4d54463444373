import { describe, expect, it } from "vitest";
import { createApp } from "../../functions/app.ts";
import { RemoteAcceptor } from "../../functions/peers/remote-acceptor.ts";
import { makeTestCluster } from "../../scripts/local/throwaway-cluster.ts";
import type { ProviderId } from "../../shared/config.ts";
import { encodeBallot } from "../../shared/quorum/ballot.ts";
import { MemoryAcceptor, MemoryBlobs } from "../../shared/storage/memory.ts";

/**
 * Threat: someone who captured one genuine peer call (a log, a proxy, a middlebox) replays it to
 * ANOTHER instance of the same provider, whose nonce memory never saw it. Replays must be refused
 * or harmless there: in particular a replayed read must not hand out the store's data, and a call
 * must not be re-aimed by editing its query string.
 */

const tc = await makeTestCluster();
const now = { ms: Date.UTC(2026, 10, 25, 12) };
const SECRET = "the-value-only-the-cluster-may-read";

// Two instances of the AWS provider over one store, as two warm Lambdas would be.
const store = new MemoryAcceptor();
store.records.set("order/o1", {
  key: "order/o1",
  promised: "",
  accepted: "0000000000000001.test",
  value: JSON.stringify({ secret: SECRET }),
});
const instance = () =>
  createApp({
    provider: "aws",
    cluster: tc.cluster,
    signingKey: tc.keys.aws,
    settings: tc.settingsFor("aws"),
    acceptor: store,
    blobs: new MemoryBlobs(),
    storeName: "memory",
    now: () => now.ms,
  });
const first = instance();
const second = instance();

/** The genuine coordinator's calls to `first`, each recorded as it went on the wire. */
const captured: { url: string; method: string; headers: Headers; body: ArrayBuffer }[] = [];
const genuine = new RemoteAcceptor({
  to: "aws" as ProviderId,
  url: "http://aws.test",
  key: tc.keys.cloudflare,
  now: () => now.ms,
  fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    captured.push({
      url: req.url,
      method: req.method,
      headers: new Headers(req.headers),
      body: await req.clone().arrayBuffer(),
    });
    return first.request(req);
  }) as typeof fetch,
});

const replay = (to: typeof second, c: (typeof captured)[number], url = c.url) =>
  to.request(new Request(url, { method: c.method, headers: c.headers, body: c.body }));

describe("a peer call replayed on another instance", () => {
  it("the genuine read works (control)", async () => {
    const [rec] = await genuine.read(["order/o1"]);
    expect(rec?.value).toContain(SECRET);
  });

  it("does not return the store's data to whoever replays it", async () => {
    const c = captured.at(-1);
    if (!c) throw new Error("nothing captured");
    const r = await replay(second, c);
    const text = new TextDecoder("utf-8", { fatal: false }).decode(await r.arrayBuffer());
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("order/o1");
  });

  it("a replayed accept cannot roll a register back (the ballot rules refuse it)", async () => {
    const key = "seat/e1/a/1";
    const b = (counter: number) => encodeBallot({ counter, proposer: "cf1" });
    await genuine.prepare({ keys: [key], ballot: b(1) });
    await genuine.accept([{ key, ballot: b(1), value: "old" }]);
    const oldAccept = captured.at(-1);
    if (!oldAccept) throw new Error("nothing captured");
    await genuine.prepare({ keys: [key], ballot: b(2) });
    await genuine.accept([{ key, ballot: b(2), value: "new" }]);
    const before = store.records.get(key);
    const r = await replay(second, oldAccept);
    expect(r.status).toBe(200);
    expect(store.records.get(key)).toEqual(before);
    expect(store.records.get(key)?.value).toBe("new");
  });

  it("is refused when its query string is changed (the signature covers it)", async () => {
    await genuine.read(["order/o1"]);
    const c = captured.at(-1);
    if (!c) throw new Error("nothing captured");
    const r = await replay(second, c, `${c.url}?prefix=order/`);
    expect(r.status).toBe(401);
  });
});
