import { beforeAll, describe, expect, it } from "vitest";
import { boundedProblem, PROBLEM_LIMITS } from "../../functions/problem.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";

/**
 * Issue #11 item 10: the OpenAPI document stated no limits (181 strings without maxLength, 37
 * arrays without maxItems, 65 integers without a format or bounds), documented no 429 or rate-limit
 * headers, and 37 operations had no operationId. `npm run lint:api` now runs Spectral (OWASP) and
 * Redocly on it; this test pins the same properties without the linters, and checks that what the
 * document promises is what the app does.
 */

let mc: MemoryCluster;
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is read loosely here
let doc: any;

beforeAll(async () => {
  mc = await startMemoryCluster();
  doc = await (await mc.request("cloudflare", "/openapi.json")).json();
});

type Node = Record<string, unknown>;
const METHODS = ["get", "put", "post", "delete", "patch"];

/** Every schema object in the document, with where it is. */
function schemas(): [string, Node][] {
  const out: [string, Node][] = [];
  const walk = (v: unknown, at: string) => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        walk(x, `${at}/${i}`);
      });
    } else if (v && typeof v === "object") {
      const o = v as Node;
      if (typeof o.type === "string") out.push([at, o]);
      for (const [k, x] of Object.entries(o)) walk(x, `${at}/${k}`);
    }
  };
  walk(doc.components?.schemas, "#/components/schemas");
  walk(doc.paths, "#/paths");
  return out;
}

const operations = () =>
  Object.entries(doc.paths as Record<string, Node>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ id: `${m} ${path}`, op: item[m] as Node })),
  );

describe("the OpenAPI document states its limits", () => {
  it("bounds every string (maxLength, enum or const)", () => {
    const open = schemas().filter(
      ([, s]) => s.type === "string" && !("maxLength" in s || "enum" in s || "const" in s),
    );
    expect(open.map(([at]) => at)).toEqual([]);
  });

  it("bounds every array (maxItems)", () => {
    const open = schemas().filter(([, s]) => s.type === "array" && !("maxItems" in s));
    expect(open.map(([at]) => at)).toEqual([]);
  });

  it("gives every integer a format and both bounds", () => {
    const open = schemas().filter(
      ([, s]) =>
        s.type === "integer" &&
        !((s.format === "int32" || s.format === "int64") && "minimum" in s && "maximum" in s),
    );
    expect(open.map(([at]) => at)).toEqual([]);
  });

  it("names every operation uniquely (operationId)", () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids.filter((x) => typeof x !== "string")).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("documents 429 with Retry-After, and the RateLimit headers on every 2xx and 4xx", () => {
    const missing: string[] = [];
    for (const { id, op } of operations()) {
      const responses = op.responses as Record<string, Node>;
      if (!responses["429"]) missing.push(`${id}: no 429`);
      for (const [status, r] of Object.entries(responses)) {
        const res = (
          r.$ref ? doc.components.responses[String(r.$ref).split("/").pop()!] : r
        ) as Node;
        const headers = (res.headers ?? {}) as Node;
        if (/^[24]/.test(status) && !(headers.RateLimit && headers["RateLimit-Policy"])) {
          missing.push(`${id} ${status}: no RateLimit headers`);
        }
        if (status === "429" && !headers["Retry-After"])
          missing.push(`${id}: 429 without Retry-After`);
      }
      if (op.requestBody && !responses["413"]) missing.push(`${id}: takes a body, no 413`);
    }
    expect(missing).toEqual([]);
  });
});

describe("what the document promises, the app does", () => {
  it("sends RateLimit, RateLimit-Policy and CORS headers on refusals too", async () => {
    for (const path of ["/v1/events/nope", "/v1/events?limit=0"]) {
      const r = await mc.request("vercel", path);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.headers.get("ratelimit")).toMatch(/limit=\d+/);
      expect(r.headers.get("ratelimit-policy")).toMatch(/^\d+;w=\d+$/);
      expect(r.headers.get("access-control-allow-origin")).toBe("*");
    }
  });

  it("keeps every problem within the documented lengths", () => {
    const p = boundedProblem({
      type: "https://tessera.dev/problems/x",
      title: "t".repeat(500),
      status: 422,
      detail: "d".repeat(100_000),
      errors: Array.from({ length: 5000 }, (_, i) => ({
        path: `/${"p".repeat(5000)}`,
        code: "c".repeat(100),
        message: `m${i}`.repeat(1000),
      })),
    });
    expect(p.title.length).toBeLessThanOrEqual(PROBLEM_LIMITS.title);
    expect(p.detail!.length).toBeLessThanOrEqual(PROBLEM_LIMITS.detail);
    const errors = p.errors as { path: string; code: string; message: string }[];
    expect(errors.length).toBeLessThanOrEqual(PROBLEM_LIMITS.errors);
    for (const e of errors) {
      expect(e.path.length).toBeLessThanOrEqual(PROBLEM_LIMITS.path);
      expect(e.code.length).toBeLessThanOrEqual(PROBLEM_LIMITS.code);
      expect(e.message.length).toBeLessThanOrEqual(PROBLEM_LIMITS.message);
    }
  });

  it("refuses input past a stated bound with 400 (a card number of 20 digits, a 65-char id)", async () => {
    const token = await mc.tokenFor("alice");
    const confirm = (holdId: string, number: string) =>
      mc.request("aws", `/v1/holds/${holdId}/confirm`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "idempotency-key": "k-1",
        },
        body: JSON.stringify({ card: { number, expMonth: 12, expYear: 2030, cvc: "123" } }),
      });
    for (const [r, path] of [
      [await confirm("h".repeat(65), "4242424242424242"), "/holdId"],
      [await confirm("h1", "4".repeat(20)), "/card/number"],
    ] as const) {
      expect(r.status).toBe(400);
      const body = (await r.json()) as { errors: { path: string }[] };
      expect(body.errors.map((e) => e.path)).toContain(path);
    }
  });
});
