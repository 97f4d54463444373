import { beforeAll, describe, expect, it } from "vitest";
import { instanceReplyKeys } from "../../functions/peers/reply-keys.ts";
import { signRequest } from "../../shared/crypto/http-signature.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";

/**
 * Issue #11 item 6: bodies were read whole before any limit (most routes took tens of MB and then
 * answered 400), and the peer guard read an unsigned body before looking at its signature. Each
 * request here streams its body from a counting source, so the tests see how much was read.
 */

const CHUNK = 64 * 1024;

/** A body of `total` bytes produced on demand; `pulled()` says how many the server consumed. */
function countingBody(total: number, fill = 0x20) {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(ctrl) {
        if (sent >= total) return ctrl.close();
        const n = Math.min(CHUNK, total - sent);
        sent += n;
        ctrl.enqueue(new Uint8Array(n).fill(fill));
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => sent };
}

function streamed(
  body: ReadableStream<Uint8Array>,
  headers: Record<string, string>,
  method = "POST",
): RequestInit {
  return { method, headers, body, duplex: "half" } as RequestInit;
}

const MB = 1024 * 1024;
let mc: MemoryCluster;
let token: string;

beforeAll(async () => {
  mc = await startMemoryCluster({ clusterId: "body-limits" });
  token = await mc.tokenFor("alice");
});

const expectProblem413 = async (r: Response) => {
  expect(r.status).toBe(413);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  const p = (await r.json()) as { status: number; type: string };
  expect(p.status).toBe(413);
  expect(p.type).toBe("https://tessera.dev/problems/payload-too-large");
};

describe("request bodies are limited before they are read or parsed", () => {
  it("a buyer route refuses a chunked 8 MB body (no Content-Length) with 413 after reading at most its limit", async () => {
    const b = countingBody(8 * MB);
    const r = await mc.request(
      "cloudflare",
      "/v1/events/ev-1/holds",
      streamed(b.stream, {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "idempotency-key": "k-1",
      }),
    );
    await expectProblem413(r);
    expect(b.pulled()).toBeLessThanOrEqual(MB);
  });

  it("a declared Content-Length over the limit is refused before a byte is read", async () => {
    const b = countingBody(8 * MB);
    const r = await mc.request(
      "vercel",
      "/v1/events/ev-1/holds",
      streamed(b.stream, {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "content-length": String(8 * MB),
        "idempotency-key": "k-2",
      }),
    );
    await expectProblem413(r);
    expect(b.pulled()).toBeLessThanOrEqual(CHUNK);
  });

  it("an anonymous route without a JSON body (the dev IdP's token endpoint) refuses 8 MB with 413", async () => {
    const b = countingBody(8 * MB, 0x61);
    const r = await mc.request(
      "aws",
      "/idp/token",
      streamed(b.stream, { "content-type": "application/x-www-form-urlencoded" }),
    );
    await expectProblem413(r);
    expect(b.pulled()).toBeLessThanOrEqual(MB);
  });

  it("a plan upload streams with its own larger limit and refuses past it with problem+json", async () => {
    const b = countingBody(48 * MB);
    const license = "unused";
    // Unauthenticated: refused with 401 before the body is read at all.
    const r = await mc.request(
      "cloudflare",
      "/v1/manage/plans",
      streamed(b.stream, {
        authorization: `Tessera-Theater ${license}`,
        "content-type": "application/json",
        "idempotency-key": "k-3",
      }),
    );
    expect(r.status).toBe(401);
    expect(b.pulled()).toBeLessThanOrEqual(CHUNK);
  });
});

describe("the peer guard refuses before reading the body", () => {
  const path = "/internal/acceptor/read";

  it("an unsigned peer call is refused (401) without reading its 8 MB body", async () => {
    const b = countingBody(8 * MB);
    const r = await mc.request(
      "aws",
      path,
      streamed(b.stream, { "content-type": "application/json" }),
    );
    expect(r.status).toBe(401);
    expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(b.pulled()).toBeLessThanOrEqual(CHUNK);
  });

  async function signedHeaders(createdS: number, kid?: string) {
    const key = mc.tc.keys.cloudflare;
    const h = await signRequest({
      method: "POST",
      path,
      body: new Uint8Array(0),
      to: "aws",
      key: kid ? { ...key, kid } : key,
      createdS,
      nonce: `n${Math.random().toString(36).slice(2)}xxxxxxxxxxxxxxxx`.slice(0, 32),
      replyKey: (await instanceReplyKeys()).publicKey,
    });
    return { ...h, "content-type": "application/json" };
  }

  it("a stale signed peer call is refused (401) without reading its body", async () => {
    const b = countingBody(8 * MB);
    const created = Math.floor(mc.clock.ms / 1000) - 3600;
    const r = await mc.request("aws", path, streamed(b.stream, await signedHeaders(created)));
    expect(r.status).toBe(401);
    expect(((await r.json()) as { detail: string }).detail).toMatch(/expired/);
    expect(b.pulled()).toBeLessThanOrEqual(CHUNK);
  });

  it("a peer call signed with an unknown key id is refused (401) without reading its body", async () => {
    const b = countingBody(8 * MB);
    const created = Math.floor(mc.clock.ms / 1000);
    const r = await mc.request(
      "aws",
      path,
      streamed(b.stream, await signedHeaders(created, "stranger")),
    );
    expect(r.status).toBe(401);
    expect(((await r.json()) as { detail: string }).detail).toMatch(/unknown key/);
    expect(b.pulled()).toBeLessThanOrEqual(CHUNK);
  });

  it("a fresh, well-formed peer call over the peer limit gets 413 after reading at most the limit", async () => {
    const b = countingBody(16 * MB);
    const created = Math.floor(mc.clock.ms / 1000);
    const r = await mc.request("aws", path, streamed(b.stream, await signedHeaders(created)));
    await expectProblem413(r);
    expect(b.pulled()).toBeLessThanOrEqual(4 * MB + CHUNK);
  });
});
