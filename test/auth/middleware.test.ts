import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { buyerAuth, optionalBuyer } from "../../functions/auth/buyer.ts";
import { discoveredJwks } from "../../functions/auth/jwks.ts";
import { requireScope, theaterAuth } from "../../functions/auth/theater.ts";
import type { AuthVariables } from "../../functions/auth/variables.ts";
import { ProblemError, sendProblem } from "../../functions/problem.ts";
import { idpRoutes } from "../../functions/routes/idp.ts";
import { canBuyerSeeEvent } from "../../shared/auth/access.ts";
import { createBuyerVerifier } from "../../shared/auth/oidc.ts";
import { createTheaterToken } from "../../shared/auth/theater-token.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";
import { CLUSTER, DAY_MS, type Fixture, makeFixture, T0 } from "./fixtures.ts";

const ISSUER = "http://cf.test/idp";
const NOW = T0 + DAY_MS;
let fx: Fixture;
let narrow: Fixture;
let idp: ReturnType<typeof idpRoutes>;
let app: Hono<{ Variables: AuthVariables }>;
const revoked = new Set<string>();

beforeAll(async () => {
  fx = await makeFixture();
  narrow = await makeFixture({ scopes: ["sales"], jti: "lic-narrow" });
  idp = idpRoutes({
    issuer: ISSUER,
    key: await generateEd25519Jwk("idp"),
    users: ["alice"],
    now: () => NOW,
  });
  const inIdp = ((i: RequestInfo | URL, init?: RequestInit) =>
    idp.request(new Request(i, init))) as typeof fetch;
  const verifier = createBuyerVerifier({
    issuer: ISSUER,
    audience: "tessera",
    jwks: discoveredJwks(ISSUER, inIdp),
    now: () => NOW,
  });
  // An issuer whose discovery is down: the verifier must say "unavailable", not "bad token".
  const down = createBuyerVerifier({
    issuer: "http://down.test",
    audience: "tessera",
    jwks: discoveredJwks(
      "http://down.test",
      (async () => new Response("", { status: 502 })) as typeof fetch,
    ),
    now: () => NOW,
  });
  const theater = {
    governanceKeys: [publicOf(fx.governance), publicOf(narrow.governance)],
    clusterId: CLUSTER,
    revoked,
    now: () => NOW,
  };

  app = new Hono<{ Variables: AuthVariables }>();
  app.onError((err, c) => {
    if (err instanceof ProblemError) return sendProblem(c, err);
    return c.text(String(err), 500);
  });
  app.get("/v1/me", buyerAuth(verifier), (c) => c.json(c.get("buyer")));
  app.get("/v1/down", buyerAuth(down), (c) => c.json(c.get("buyer")));
  app.get("/v1/events/e1", optionalBuyer(verifier), (c) => {
    const visible = canBuyerSeeEvent(c.get("buyer"), { visibility: "signed-in" });
    return c.json({ visible, buyer: c.get("buyer") ?? null });
  });
  app.post("/v1/events", theaterAuth(theater), requireScope("events"), (c) =>
    c.json(c.get("theater")),
  );
  app.get("/v1/orders", theaterAuth({ ...theater, scopes: ["orders"] }), (c) =>
    c.json(c.get("theater")),
  );
});

async function buyerToken(): Promise<string> {
  const r = await idp.request(`${ISSUER}/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "alice" }),
  });
  return ((await r.json()) as { access_token: string }).access_token;
}

const theaterToken = (f: Fixture, method: string, path: string, now = NOW) =>
  createTheaterToken({ license: f.license, theaterKey: f.theaterKey, method, path, now });

async function expectProblem(r: Response, status: number, challenge?: RegExp) {
  expect(r.status).toBe(status);
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  const body = (await r.json()) as Record<string, unknown>;
  expect(body.status).toBe(status);
  if (challenge) expect(r.headers.get("www-authenticate")).toMatch(challenge);
  return body;
}

describe("buyer middleware", () => {
  it("admits a dev-IdP token and exposes the buyer", async () => {
    const r = await app.request("/v1/me", {
      headers: { authorization: `Bearer ${await buyerToken()}` },
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ sub: "alice", name: "alice", email: "alice@example.test" });
  });

  it("401 with a bare challenge when no token is sent", async () => {
    const body = await expectProblem(await app.request("/v1/me"), 401, /^Bearer realm="tessera"$/);
    expect(body.reason).toBe("missing");
    // Another scheme counts as no bearer token.
    await expectProblem(
      await app.request("/v1/me", { headers: { authorization: "Basic YTpi" } }),
      401,
      /^Bearer realm/,
    );
  });

  it("401 invalid_token for a bad token", async () => {
    const t = await buyerToken();
    const r = await app.request("/v1/me", {
      headers: { authorization: `Bearer ${t.slice(0, -4)}AAAA` },
    });
    await expectProblem(r, 401, /error="invalid_token"/);
  });

  it("503 when the issuer's keys cannot be fetched", async () => {
    const r = await app.request("/v1/down", {
      headers: { authorization: `Bearer ${await buyerToken()}` },
    });
    await expectProblem(r, 503);
  });

  it("optionalBuyer: anonymous passes, a valid token is used, a bad one is 401", async () => {
    const anon = await app.request("/v1/events/e1");
    expect(await anon.json()).toEqual({ visible: false, buyer: null });
    const signed = await app.request("/v1/events/e1", {
      headers: { authorization: `Bearer ${await buyerToken()}` },
    });
    expect(await signed.json()).toMatchObject({ visible: true, buyer: { sub: "alice" } });
    const bad = await app.request("/v1/events/e1", { headers: { authorization: "Bearer x.y.z" } });
    await expectProblem(bad, 401, /invalid_token/);
  });
});

describe("theater middleware", () => {
  const call = (method: string, path: string, token?: string) =>
    app.request(path, {
      method,
      headers: token ? { authorization: `Tessera-Theater ${token}` } : {},
    });

  it("admits a licensed theater with the needed scope", async () => {
    const r = await call("POST", "/v1/events", await theaterToken(fx, "POST", "/v1/events"));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ id: "th-odeon", licenseId: "lic-1" });
  });

  it("accepts the scheme name case-insensitively", async () => {
    const t = await theaterToken(fx, "POST", "/v1/events");
    const r = await app.request("/v1/events", {
      method: "POST",
      headers: { authorization: `tessera-theater ${t}` },
    });
    expect(r.status).toBe(200);
  });

  it("401 without a token, or with a buyer token", async () => {
    await expectProblem(await call("POST", "/v1/events"), 401, /^Tessera-Theater realm/);
    const r = await app.request("/v1/events", {
      method: "POST",
      headers: { authorization: `Bearer ${await buyerToken()}` },
    });
    await expectProblem(r, 401);
  });

  it("401 for a token bound to another path, expired, or on a revoked license", async () => {
    const other = await call("POST", "/v1/events", await theaterToken(fx, "POST", "/v1/venues"));
    expect((await expectProblem(other, 401, /invalid_token/)).reason).toBe("wrong-binding");
    const old = await call(
      "POST",
      "/v1/events",
      await theaterToken(fx, "POST", "/v1/events", NOW - 600_000),
    );
    expect((await expectProblem(old, 401)).reason).toBe("token-expired");
    revoked.add("lic-1");
    try {
      const r = await call("POST", "/v1/events", await theaterToken(fx, "POST", "/v1/events"));
      expect((await expectProblem(r, 401)).reason).toBe("revoked");
    } finally {
      revoked.delete("lic-1");
    }
  });

  it("401 for a foreign-signed license", async () => {
    const foreign = await makeFixture();
    const r = await call("POST", "/v1/events", await theaterToken(foreign, "POST", "/v1/events"));
    expect((await expectProblem(r, 401)).reason).toBe("unknown-signer");
  });

  it("403 insufficient_scope from requireScope and from theaterAuth({scopes})", async () => {
    const r = await call("POST", "/v1/events", await theaterToken(narrow, "POST", "/v1/events"));
    const body = await expectProblem(r, 403, /error="insufficient_scope"/);
    expect(body.reason).toBe("insufficient-scope");
    const ok = await call("GET", "/v1/orders", await theaterToken(fx, "GET", "/v1/orders"));
    expect(ok.status).toBe(200);
    const denied = await call("GET", "/v1/orders", await theaterToken(narrow, "GET", "/v1/orders"));
    expect((await expectProblem(denied, 403, /insufficient_scope/)).reason).toBe(
      "insufficient-scope",
    );
  });
});
