import { base64url, createLocalJWKSet, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createBuyerVerifier } from "../../shared/auth/oidc.ts";
import { T0 } from "./fixtures.ts";

const ISSUER = "https://id.example.test";
const AUD = "tessera";
const NOW_S = T0 / 1000;

type Alg = "EdDSA" | "ES256" | "RS256";
const keys = {} as Record<Alg, { privateKey: CryptoKey; jwk: JWK }>;
beforeAll(async () => {
  for (const alg of ["EdDSA", "ES256", "RS256"] as const) {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    keys[alg] = { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: alg, alg } };
  }
});

const verifier = () =>
  createBuyerVerifier({
    issuer: ISSUER,
    audience: AUD,
    jwks: createLocalJWKSet({ keys: Object.values(keys).map((k) => k.jwk) }),
    now: () => T0,
  });

function token(
  claims: Record<string, unknown> = {},
  alg: Alg = "EdDSA",
  times: { iat?: number; exp?: number } = {},
) {
  // Claims given here override the defaults (SignJWT's setters would overwrite them).
  return new SignJWT({
    iss: ISSUER,
    aud: AUD,
    sub: "buyer-ada",
    iat: times.iat ?? NOW_S,
    exp: times.exp ?? NOW_S + 600,
    name: "Ada",
    email: "ada@example.test",
    ...claims,
  })
    .setProtectedHeader({ alg, kid: alg })
    .sign(keys[alg].privateKey);
}

describe("buyer OIDC verifier", () => {
  it("accepts good tokens signed with each allowed algorithm", async () => {
    for (const alg of ["EdDSA", "ES256", "RS256"] as const) {
      expect(await verifier().verify(await token({}, alg))).toEqual({
        ok: true,
        buyer: { sub: "buyer-ada", name: "Ada", email: "ada@example.test" },
      });
    }
  });

  it("refuses a token from another issuer", async () => {
    const r = await verifier().verify(await token({ iss: "https://evil.example.test" }));
    expect(r).toEqual({ ok: false, reason: "invalid iss claim" });
  });

  it("refuses a token for another audience", async () => {
    const r = await verifier().verify(await token({ aud: "someone-else" }));
    expect(r).toEqual({ ok: false, reason: "invalid aud claim" });
  });

  it("refuses an expired token beyond the clock tolerance", async () => {
    const r = await verifier().verify(
      await token({}, "EdDSA", { iat: NOW_S - 700, exp: NOW_S - 60 }),
    );
    expect(r).toEqual({ ok: false, reason: "expired" });
    const nearly = await token({}, "EdDSA", { iat: NOW_S - 700, exp: NOW_S - 10 });
    expect((await verifier().verify(nearly)).ok).toBe(true);
  });

  it("refuses alg none", async () => {
    const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
    const unsigned = `${enc({ alg: "none" })}.${enc({ iss: ISSUER, aud: AUD, sub: "x", exp: NOW_S + 60 })}.`;
    const r = await verifier().verify(unsigned);
    expect(r.ok).toBe(false);
  });

  it("refuses HS256, even keyed with the issuer's public key bytes (alg confusion)", async () => {
    const secret = new TextEncoder().encode(JSON.stringify(keys.EdDSA.jwk));
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid: "EdDSA" })
      .setIssuer(ISSUER)
      .setAudience(AUD)
      .setSubject("mallory")
      .setExpirationTime(NOW_S + 60)
      .sign(secret);
    expect(await verifier().verify(hs)).toEqual({ ok: false, reason: "algorithm not allowed" });
  });

  it("refuses a token signed by a key not in the JWKS, and garbage", async () => {
    const { privateKey } = await generateKeyPair("EdDSA");
    const foreign = await new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA", kid: "EdDSA" })
      .setIssuer(ISSUER)
      .setAudience(AUD)
      .setSubject("mallory")
      .setExpirationTime(NOW_S + 60)
      .sign(privateKey);
    expect(await verifier().verify(foreign)).toEqual({ ok: false, reason: "bad signature" });
    expect(await verifier().verify("not.a.jwt")).toEqual({ ok: false, reason: "malformed token" });
  });

  it("requires sub and exp", async () => {
    const noExp = await new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA", kid: "EdDSA" })
      .setIssuer(ISSUER)
      .setAudience(AUD)
      .setSubject("x")
      .sign(keys.EdDSA.privateKey);
    expect((await verifier().verify(noExp)).ok).toBe(false);
    const noSub = await new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA", kid: "EdDSA" })
      .setIssuer(ISSUER)
      .setAudience(AUD)
      .setExpirationTime(NOW_S + 60)
      .sign(keys.EdDSA.privateKey);
    expect((await verifier().verify(noSub)).ok).toBe(false);
  });
});
