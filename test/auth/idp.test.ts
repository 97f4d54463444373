import { createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { discoveredJwks } from "../../functions/auth/jwks.ts";
import { idpRoutes } from "../../functions/routes/idp.ts";
import { createBuyerVerifier } from "../../shared/auth/oidc.ts";
import { generateEd25519Jwk } from "../../shared/crypto/keys.ts";
import { T0 } from "./fixtures.ts";

const ISSUER = "http://cf.test/idp";
const now = { ms: T0 };
let app: ReturnType<typeof idpRoutes>;
/** fetch that goes straight into the IdP app, for jose's remote JWKS and discovery. */
const inApp = ((input: RequestInfo | URL, init?: RequestInit) =>
  app.request(new Request(input, init))) as typeof fetch;

beforeAll(async () => {
  app = idpRoutes({
    issuer: ISSUER,
    key: await generateEd25519Jwk("idp"),
    users: ["alice", "bob"],
    now: () => now.ms,
  });
});

const verifier = (jwks = discoveredJwks(ISSUER, inApp)) =>
  createBuyerVerifier({ issuer: ISSUER, audience: "tessera", jwks, now: () => now.ms });

const postToken = (body: Record<string, string>, form = true) =>
  app.request(`${ISSUER}/token`, {
    method: "POST",
    headers: { "content-type": form ? "application/x-www-form-urlencoded" : "application/json" },
    body: form ? new URLSearchParams(body).toString() : JSON.stringify(body),
  });

async function pkce() {
  const verifierBytes = crypto.getRandomValues(new Uint8Array(32));
  const v = Buffer.from(verifierBytes).toString("base64url");
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(v));
  return { verifier: v, challenge: Buffer.from(digest).toString("base64url") };
}

describe("dev identity provider", () => {
  it("publishes discovery and JWKS", async () => {
    const d = await (await app.request(`${ISSUER}/.well-known/openid-configuration`)).json();
    expect(d).toMatchObject({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/jwks.json`,
      token_endpoint: `${ISSUER}/token`,
      authorization_endpoint: `${ISSUER}/authorize`,
      code_challenge_methods_supported: ["S256"],
    });
    const jwks = (await (await app.request(`${ISSUER}/jwks.json`)).json()) as {
      keys: Record<string, unknown>[];
    };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA" });
    expect(jwks.keys[0]).not.toHaveProperty("d");
  });

  it("issues tokens for a named user (form and JSON) that the buyer verifier accepts", async () => {
    for (const form of [true, false]) {
      const r = await postToken({ username: "alice" }, form);
      expect(r.status).toBe(200);
      const body = (await r.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ token_type: "Bearer", expires_in: 3600 });
      const at = String(body.access_token);
      expect(decodeProtectedHeader(at).alg).toBe("EdDSA");
      expect(decodeJwt(at)).toMatchObject({
        iss: ISSUER,
        aud: "tessera",
        sub: "alice",
        name: "alice",
      });
      expect(await verifier().verify(at)).toEqual({
        ok: true,
        buyer: { sub: "alice", name: "alice", email: "alice@example.test" },
      });
      expect((await verifier().verify(String(body.id_token))).ok).toBe(true);
    }
  });

  it("works with jose's createRemoteJWKSet pointed at the jwks endpoint", async () => {
    const jwks = createRemoteJWKSet(new URL(`${ISSUER}/jwks.json`), {
      [customFetch]: (url: string, init: RequestInit) => inApp(url, init),
    });
    const body = (await (await postToken({ username: "bob" })).json()) as { access_token: string };
    expect(await verifier(jwks).verify(body.access_token)).toMatchObject({ ok: true });
  });

  it("refuses an unknown user with 400 problem+json", async () => {
    const r = await postToken({ username: "mallory" });
    expect(r.status).toBe(400);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
    expect(await r.json()).toMatchObject({ status: 400, error: "invalid_grant" });
    const g = await postToken({ grant_type: "client_credentials" });
    expect(await g.json()).toMatchObject({ status: 400, error: "unsupported_grant_type" });
  });

  it("runs the authorization-code flow with PKCE S256", async () => {
    const { verifier: v, challenge } = await pkce();
    const q = new URLSearchParams({
      response_type: "code",
      client_id: "tessera",
      redirect_uri: "http://app.test/callback",
      state: "s<1>",
      nonce: "n-1",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const page = await app.request(`${ISSUER}/authorize?${q}`);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain("Sign in as alice");
    expect(text).toContain('value="s&lt;1&gt;"'); // query values are escaped into the form
    expect(text).toContain(`action="${ISSUER}/authorize"`);

    const form = new URLSearchParams(q);
    form.set("username", "alice");
    const back = await app.request(`${ISSUER}/authorize`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    expect(back.status).toBe(302);
    const loc = new URL(back.headers.get("location")!);
    expect(loc.origin + loc.pathname).toBe("http://app.test/callback");
    expect(loc.searchParams.get("state")).toBe("s<1>");
    const code = loc.searchParams.get("code")!;

    const redeem = (extra: Record<string, string>) =>
      postToken({
        grant_type: "authorization_code",
        code,
        redirect_uri: "http://app.test/callback",
        client_id: "tessera",
        ...extra,
      });
    expect((await redeem({ code_verifier: "x".repeat(43) })).status).toBe(400);
    expect((await redeem({})).status).toBe(400);
    expect((await redeem({ code_verifier: v, redirect_uri: "http://evil.test/cb" })).status).toBe(
      400,
    );
    const ok = await redeem({ code_verifier: v });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { access_token: string; id_token: string };
    expect(decodeJwt(body.id_token)).toMatchObject({ sub: "alice", nonce: "n-1", aud: "tessera" });
    expect(await verifier().verify(body.access_token)).toMatchObject({ ok: true });

    // Codes are short-lived.
    now.ms += 5 * 60_000;
    try {
      expect((await redeem({ code_verifier: v })).status).toBe(400);
    } finally {
      now.ms = T0;
    }
  });

  it("refuses bad authorize requests", async () => {
    const base = { response_type: "code", client_id: "c", redirect_uri: "http://app.test/cb" };
    const get = (q: Record<string, string>) =>
      app.request(`${ISSUER}/authorize?${new URLSearchParams(q)}`);
    expect((await get(base)).status).toBe(200);
    expect((await get({ ...base, response_type: "token" })).status).toBe(400);
    expect((await get({ ...base, redirect_uri: "javascript:alert(1)" })).status).toBe(400);
    expect(
      (await get({ ...base, code_challenge: "abc", code_challenge_method: "plain" })).status,
    ).toBe(400);
  });

  it("rejects invalid usernames at construction", async () => {
    const key = await generateEd25519Jwk("idp");
    expect(() => idpRoutes({ issuer: ISSUER, key, users: ["<script>"], now: () => T0 })).toThrow(
      /bad username/,
    );
  });
});
