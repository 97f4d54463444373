import fc from "fast-check";
import { importJWK, SignJWT } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { issueLicense } from "../../shared/auth/license.ts";
import { createTheaterToken } from "../../shared/auth/theater-token.ts";
import { PROVIDERS, type PrivateJwk, type ProviderId } from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";
import { directStore, type Seeded, seedEvent } from "../support/seed.ts";
import {
  duplicateArrays,
  mutateAt,
  nastyBodyTexts,
  nastyIdempotencyKeys,
  nastyPathSegments,
  nastyStrings,
  nastyValue,
} from "./nasty.ts";
import { arbitraryOf, type GenContext, type Schema } from "./schema-arbitrary.ts";

/**
 * Property-based fuzzing of every public endpoint, driven by the API's own OpenAPI document: for
 * each operation, requests are generated from its parameter and body schemas (mostly valid, so
 * the handlers run) mixed with hostile values, random credentials (none, wrong, another buyer's,
 * another theatre's) and ids that exist, belong to someone else, or never existed. Every answer
 * must be a non-5xx; every 4xx must be application/problem+json whose `status` is the HTTP status;
 * and a refused (or read-only) request must leave the three stores' values exactly as they were.
 */

/** The whole file's fuzzing budget, spread evenly over the operations (CI runs on two cores). */
const FUZZ_BUDGET_MS = 30_000;
/** Upper bound of generated requests per operation (the time budget usually ends it first). */
const RUNS_PER_OPERATION = 60;
const SEED = 20_261_125;
/** Internal and operator endpoints are not part of the public contract. */
const PUBLIC_PREFIXES = ["/v1/", "/idp/", "/openapi.json", "/health", "/livez"];

const CARD_OK = { number: "4242424242424242", expMonth: 12, expYear: 2030, cvc: "123" };

interface Operation {
  method: string;
  path: string;
  // biome-ignore lint/suspicious/noExplicitAny: OpenAPI operation objects are untyped JSON
  op: any;
}

interface Theater {
  theaterId: string;
  key: PrivateJwk;
  license: string;
}

// ---- One cluster, seeded with two theatres' events, a live hold and a sold order -------------
const mc: MemoryCluster = await startMemoryCluster({ clusterId: "fuzz-cluster" });
const now = () => mc.clock.ms;
const store = directStore(mc.acceptors, now);
const evA: Seeded = await seedEvent(store, { nowMs: now(), theaterId: "th-a" });
const evB: Seeded = await seedEvent(store, { nowMs: now(), theaterId: "th-b" });

async function theater(theaterId: string): Promise<Theater> {
  const key = await generateEd25519Jwk(theaterId);
  const license = await issueLicense({
    governanceKey: mc.tc.governanceKey,
    theaterId,
    name: `Theatre ${theaterId}`,
    theaterKey: publicOf(key),
    scopes: ["venues", "events", "orders", "sales"],
    clusterId: mc.tc.cluster.clusterId,
    now: now(),
    ttlS: 30 * 24 * 3600,
  });
  return { theaterId, key, license };
}
const thA = await theater("th-a");
const thB = await theater("th-b");

const settings = mc.tc.settingsFor("cloudflare");
const idpKey = await importJWK({ ...mc.tc.idpKey }, "EdDSA");
/** A buyer token for any subject, signed like the dev IdP's (so each fuzz case can be its own
 * client and no rate limit interferes). */
async function buyerToken(sub: string): Promise<string> {
  const iat = Math.floor(now() / 1000);
  return new SignJWT({ sub, name: sub, scope: "openid" })
    .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: mc.tc.idpKey.kid })
    .setIssuer(settings.TESSERA_OIDC_ISSUER)
    .setAudience(settings.TESSERA_OIDC_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(idpKey);
}
const alice = await buyerToken("alice");

async function api(method: string, path: string, token: string, body?: unknown, key?: string) {
  const r = await mc.request("cloudflare", path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      ...(key ? { "idempotency-key": key } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: setup reads a few response shapes
  return { status: r.status, body: (await r.json().catch(() => null)) as any };
}
const seatsOf = (ev: Seeded, from: number, n: number) =>
  ev.seats.slice(from, from + n).map((s) => ({ sectionId: s.sectionId, seatId: s.seatId }));
const liveHold = await api(
  "POST",
  `/v1/events/${evA.eventId}/holds`,
  alice,
  { seats: seatsOf(evA, 0, 1) },
  "fz-h1",
);
const soldHold = await api(
  "POST",
  `/v1/events/${evA.eventId}/holds`,
  alice,
  { seats: seatsOf(evA, 1, 2) },
  "fz-h2",
);
const purchase = soldHold.body?.holdId
  ? await api(
      "POST",
      `/v1/holds/${soldHold.body.holdId}/confirm`,
      alice,
      { card: CARD_OK },
      "fz-c1",
    )
  : { status: 0, body: null };

const ids = {
  eventId: [evA.eventId, evB.eventId, "ev-missing"],
  holdId: [liveHold.body?.holdId, soldHold.body?.holdId, "h-missing"].filter(Boolean),
  orderId: [purchase.body?.order?.id, "o-missing"].filter(Boolean),
  ticketId: [
    purchase.body?.tickets?.[0]?.id,
    purchase.body?.tickets?.[0]?.ticketId,
    "t-missing",
  ].filter(Boolean),
  planId: [evA.planId, evB.planId, "pl-missing"],
  venueId: ["venue-seed", "v-missing"],
  backupId: ["bk-missing"],
  provider: [...PROVIDERS, "nowhere"],
  id: ["seg-missing"],
  section: [evA.seats[0]?.sectionId ?? "stalls", "nope"],
} as Record<string, unknown[]>;

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is untyped JSON
const doc: any = await (await mc.request("cloudflare", "/openapi.json")).json();
const operations: Operation[] = Object.entries<Record<string, unknown>>(doc.paths)
  .filter(([path]) => PUBLIC_PREFIXES.some((p) => path.startsWith(p)))
  .flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([m, op]) => ["get", "post", "put", "patch", "delete"].includes(m) && op)
      .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
const genCtx: GenContext = {
  components: doc.components?.schemas ?? {},
  known: {
    ...ids,
    seats: [
      seatsOf(evA, 3, 1),
      seatsOf(evA, 4, 2),
      seatsOf(evB, 0, 1),
      [...seatsOf(evA, 5, 1), ...seatsOf(evA, 5, 1)],
    ],
    sectionId: [evA.seats[0]?.sectionId, evB.seats[0]?.sectionId],
    seatId: evA.seats.slice(0, 5).map((s) => s.seatId),
    card: [CARD_OK, { ...CARD_OK, number: "4000000000000002" }],
  },
};

afterAll(() => {
  // Nothing to stop: the memory cluster holds no sockets or processes.
});

// ---- Request generation ------------------------------------------------------------------------

type Auth =
  | { kind: "none" }
  | { kind: "raw"; value: string }
  | { kind: "buyer"; sub: string }
  | { kind: "theater"; t: "A" | "B"; wrongPath: boolean };

const authArb: fc.Arbitrary<Auth> = fc.oneof(
  fc.constant<Auth>({ kind: "none" }),
  fc.constantFrom<Auth>(
    { kind: "raw", value: "Bearer not-a-jwt" },
    { kind: "raw", value: "Bearer " },
    { kind: "raw", value: "Tessera-Theater x.y.z" },
    { kind: "raw", value: "Basic YWxpY2U6c2VjcmV0" },
  ),
  fc.constantFrom<Auth>({ kind: "buyer", sub: "alice" }, { kind: "buyer", sub: "mallory" }),
  fc.nat(1000).map<Auth>((n) => ({ kind: "buyer", sub: `fuzz-${n}` })),
  fc.record<Auth & { kind: "theater" }>({
    kind: fc.constant("theater"),
    t: fc.constantFrom("A", "B"),
    wrongPath: fc.boolean(),
  }),
);

/** URL-encodes any string (a lone surrogate becomes U+FFFD, as a browser would send it). */
const enc = (s: string) =>
  encodeURIComponent(
    s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD"),
  );

/** Header values the Fetch API accepts (no control characters). */
const headerSafe = (s: string) => /^[\x20-\x7e]*$/.test(s);

interface Generated {
  provider: ProviderId;
  path: string;
  query: string;
  auth: Auth;
  headers: Record<string, string>;
  body?: string;
  contentType?: string;
  bodyKind: string;
  /** The client address as the platform reports it. */
  ip: string;
}

function requestArb(o: Operation): fc.Arbitrary<Generated> {
  // biome-ignore lint/suspicious/noExplicitAny: OpenAPI parameter objects are untyped JSON
  const params: any[] = o.op.parameters ?? [];
  const pathArbs = params
    .filter((p) => p.in === "path")
    .map((p) =>
      fc
        .oneof(
          { arbitrary: fc.constantFrom(...(ids[p.name] ?? ["x"])), weight: 5 },
          { arbitrary: arbitraryOf(p.schema ?? { type: "string" }, genCtx), weight: 1 },
          { arbitrary: nastyPathSegments, weight: 2 },
        )
        .map((v) => [p.name as string, enc(String(v))] as const),
    );
  const queryArbs = params
    .filter((p) => p.in === "query")
    .map((p) =>
      fc
        .option(
          fc.oneof(
            arbitraryOf(p.schema ?? { type: "string" }, genCtx),
            fc.constantFrom<unknown>(...nastyStrings.slice(0, 12), -1, 1e9),
          ),
          { freq: 2 },
        )
        .map((v) => (v === null ? null : ([p.name as string, String(v)] as const))),
    );
  const headerArbs = params
    .filter((p) => p.in === "header")
    .map((p) =>
      fc
        .option(
          fc.oneof(
            { arbitrary: fc.uuid(), weight: 4 },
            { arbitrary: arbitraryOf(p.schema ?? { type: "string" }, genCtx), weight: 2 },
            { arbitrary: fc.constantFrom(...nastyStrings.filter(headerSafe)), weight: 1 },
            ...(p.name === "idempotency-key"
              ? [
                  { arbitrary: fc.uuid().map((u) => `"${u}"`), weight: 2 },
                  { arbitrary: nastyIdempotencyKeys, weight: 2 },
                ]
              : []),
          ),
          { freq: 5 },
        )
        .map((v) => (v === null ? null : ([p.name as string, String(v)] as const))),
    );
  const bodySchema: Schema | undefined = o.op.requestBody?.content?.["application/json"]?.schema;
  const valid = bodySchema ? arbitraryOf(bodySchema, genCtx) : fc.constant(undefined);
  const bodyArb: fc.Arbitrary<{ text?: string; kind: string }> = bodySchema
    ? fc.oneof(
        { arbitrary: valid.map((v) => ({ text: JSON.stringify(v), kind: "schema" })), weight: 5 },
        {
          arbitrary: fc
            .tuple(valid, fc.nat(), nastyValue)
            .map(([v, n, x]) => ({ text: JSON.stringify(mutateAt(v, n, x)), kind: "mutated" })),
          weight: 3,
        },
        {
          arbitrary: valid.map((v) => ({ text: JSON.stringify(duplicateArrays(v)), kind: "dup" })),
          weight: 1,
        },
        { arbitrary: nastyBodyTexts.map((t) => ({ text: t, kind: "nasty" })), weight: 2 },
        { arbitrary: fc.constant({ kind: "none" }), weight: 1 },
      )
    : fc.oneof(
        { arbitrary: fc.constant({ kind: "none" }), weight: 6 },
        { arbitrary: nastyBodyTexts.map((t) => ({ text: t, kind: "nasty" })), weight: 1 },
      );
  return fc
    .record({
      provider: fc.constantFrom(...PROVIDERS),
      pathParams: fc.tuple(...pathArbs),
      query: fc.tuple(...queryArbs),
      headers: fc.tuple(...headerArbs),
      auth: authArb,
      body: bodyArb,
      // Mostly JSON; sometimes a content type the routes do not take (415 expected, not 5xx).
      contentType: fc.constantFrom(
        "application/json",
        "application/json",
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
      ),
      ip: fc.ipV4(),
    })
    .map((g) => {
      let path = o.path;
      for (const [name, v] of g.pathParams) path = path.replace(`{${name}}`, v);
      const query = g.query
        .filter((q): q is readonly [string, string] => q !== null)
        .map(([k, v]) => `${enc(k)}=${enc(v)}`)
        .join("&");
      const headers: Record<string, string> = { "x-forwarded-for": g.ip };
      for (const h of g.headers) if (h !== null && headerSafe(h[1])) headers[h[0]] = h[1];
      return {
        provider: g.provider,
        path,
        query,
        auth: g.auth,
        headers,
        ...(g.body.text === undefined ? {} : { body: g.body.text, contentType: g.contentType }),
        bodyKind: g.body.kind,
        ip: g.ip,
      };
    });
}

async function authHeader(a: Auth, method: string, path: string): Promise<string | undefined> {
  switch (a.kind) {
    case "none":
      return undefined;
    case "raw":
      return a.value;
    case "buyer":
      return `Bearer ${await buyerToken(a.sub)}`;
    case "theater": {
      const t = a.t === "A" ? thA : thB;
      const token = await createTheaterToken({
        license: t.license,
        theaterKey: t.key,
        method,
        path: a.wrongPath ? "/v1/manage/events" : path,
        now: now(),
      });
      return `Tessera-Theater ${token}`;
    }
  }
}

// ---- Store snapshots ---------------------------------------------------------------------------

/** The value a majority of stores holds for every key (absent and null alike ignored): what a
 * quorum read returns. Ballots are left out: reads legitimately rewrite values at new ballots. */
function snapshot(): Map<string, string> {
  const keys = new Set<string>();
  for (const p of PROVIDERS) for (const k of mc.acceptors[p].records.keys()) keys.add(k);
  const out = new Map<string, string>();
  for (const k of keys) {
    const vals = PROVIDERS.map((p) => mc.acceptors[p].records.get(k)?.value ?? null);
    const counts = new Map<string, number>();
    for (const v of vals) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
    const chosen = [...counts.entries()].find(([, n]) => n >= 2)?.[0];
    if (chosen !== undefined) out.set(k, chosen);
  }
  return out;
}

function diff(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(`${k}: changed`);
  for (const k of b.keys()) if (!a.has(k)) out.push(`${k}: created`);
  return out.slice(0, 5);
}

/** The third store's accept of a quorum write lands a little after the answer: let it. */
const quiesce = async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
};

// ---- The property ------------------------------------------------------------------------------

const perOperationMs = Math.max(250, Math.floor(FUZZ_BUDGET_MS / Math.max(1, operations.length)));

describe("fuzzing every public endpoint from its OpenAPI schema", () => {
  it("found the public operations in /openapi.json", () => {
    expect(operations.length).toBeGreaterThan(10);
    expect(liveHold.status).toBe(201);
    expect(purchase.status).toBeLessThan(300);
  });

  it.each(operations.map((o) => [`${o.method} ${o.path}`, o] as const))(
    "%s: never 5xx, problem+json on 4xx, no change on refusal",
    async (_name, o) => {
      await fc.assert(
        fc.asyncProperty(requestArb(o), async (g) => {
          const headers: Record<string, string> = { ...g.headers };
          const auth = await authHeader(g.auth, o.method, g.path);
          if (auth) headers.authorization = auth;
          if (g.contentType) headers["content-type"] = g.contentType;
          await quiesce();
          const before = snapshot();
          const url = g.query ? `${g.path}?${g.query}` : g.path;
          // Each case is its own client as the platform reports it (the X-Forwarded-For it
          // also sends is hostile noise the rate limits must ignore; see hostile.test.ts).
          const res = await mc.request(
            g.provider,
            url,
            {
              method: o.method,
              headers,
              ...(g.body !== undefined && o.method !== "GET" ? { body: g.body } : {}),
            },
            g.ip,
          );
          const text = await res.text();
          const where = `${o.method} ${url.slice(0, 200)} [${g.bodyKind}, ${g.auth.kind}] → ${res.status} ${text.slice(0, 300)}`;
          expect(res.status, where).toBeLessThan(500);
          if (res.status >= 400) {
            expect(res.headers.get("content-type") ?? "", where).toMatch(
              /^application\/problem\+json/,
            );
            expect((JSON.parse(text) as { status?: unknown }).status, where).toBe(res.status);
          }
          await quiesce();
          if (res.status >= 400 || o.method === "GET") {
            expect(diff(before, snapshot()), where).toEqual([]);
          }
        }),
        {
          numRuns: RUNS_PER_OPERATION,
          seed: SEED,
          interruptAfterTimeLimit: perOperationMs,
          endOnFailure: true,
        },
      );
    },
    perOperationMs + 60_000,
  );
});
