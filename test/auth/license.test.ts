import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import {
  issueLicense,
  LICENSE_CLOCK_TOLERANCE_S,
  verifyLicense,
} from "../../shared/auth/license.ts";
import { createTheaterToken, verifyTheaterToken } from "../../shared/auth/theater-token.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";
import { CLUSTER, DAY_MS, type Fixture, makeFixture, T0 } from "./fixtures.ts";

let fx: Fixture;
beforeAll(async () => {
  fx = await makeFixture();
});
const opts = (over: Partial<Parameters<typeof verifyLicense>[1]> = {}) => ({
  governanceKeys: [publicOf(fx.governance)],
  now: T0 + DAY_MS,
  revoked: new Set<string>(),
  clusterId: CLUSTER,
  ...over,
});

describe("license certificates", () => {
  it("carries the claims the design names", () => {
    const h = decodeProtectedHeader(fx.license);
    const c = decodeJwt(fx.license);
    expect(h).toMatchObject({ alg: "EdDSA", typ: "tessera-license+jwt", kid: fx.governance.kid });
    expect(c).toMatchObject({
      iss: "tessera-governance",
      sub: "th-odeon",
      aud: CLUSTER,
      name: "Odéon",
      cnf: { jwk: publicOf(fx.theaterKey) },
      scope: "venues events orders sales",
      jti: "lic-1",
      iat: T0 / 1000,
      nbf: T0 / 1000,
      exp: T0 / 1000 + 30 * 24 * 3600,
    });
  });

  it("verifies a good license", async () => {
    const r = await verifyLicense(fx.license, opts());
    expect(r).toEqual({
      ok: true,
      license: expect.objectContaining({
        theaterId: "th-odeon",
        name: "Odéon",
        scopes: ["venues", "events", "orders", "sales"],
        licenseId: "lic-1",
        theaterKey: publicOf(fx.theaterKey),
      }),
    });
  });

  it("accepts any of several governance keys (rotation)", async () => {
    const other = publicOf(await generateEd25519Jwk("gov"));
    const r = await verifyLicense(
      fx.license,
      opts({ governanceKeys: [other, publicOf(fx.governance)] }),
    );
    expect(r.ok).toBe(true);
  });

  it("refuses an expired license", async () => {
    const r = await verifyLicense(fx.license, opts({ now: T0 + 31 * DAY_MS }));
    expect(r).toMatchObject({ ok: false, reason: "expired" });
  });

  it("refuses a license before its nbf, beyond the clock tolerance only", async () => {
    const early = T0 - (LICENSE_CLOCK_TOLERANCE_S + 1) * 1000;
    expect(await verifyLicense(fx.license, opts({ now: early }))).toMatchObject({
      ok: false,
      reason: "not-yet-valid",
    });
    const slightlyEarly = T0 - (LICENSE_CLOCK_TOLERANCE_S - 1) * 1000;
    expect((await verifyLicense(fx.license, opts({ now: slightlyEarly }))).ok).toBe(true);
  });

  it("refuses a revoked license (set or predicate)", async () => {
    expect(await verifyLicense(fx.license, opts({ revoked: new Set(["lic-1"]) }))).toMatchObject({
      ok: false,
      reason: "revoked",
    });
    expect(await verifyLicense(fx.license, opts({ revoked: (j) => j === "lic-1" }))).toMatchObject({
      ok: false,
      reason: "revoked",
    });
  });

  it("refuses a license signed by an unknown key, even one reusing the governance kid", async () => {
    const foreign = await makeFixture();
    expect(await verifyLicense(foreign.license, opts())).toMatchObject({
      ok: false,
      reason: "unknown-signer",
    });
    const impostor = { ...(await generateEd25519Jwk("x")), kid: fx.governance.kid };
    const forged = await issueLicense({
      governanceKey: impostor,
      theaterId: "th-odeon",
      name: "Odéon",
      theaterKey: publicOf(fx.theaterKey),
      scopes: ["events"],
      clusterId: CLUSTER,
      now: T0,
      ttlS: 3600,
    });
    expect(await verifyLicense(forged, opts({ now: T0 }))).toMatchObject({
      ok: false,
      reason: "unknown-signer",
    });
  });

  it("refuses a license for another cluster", async () => {
    expect(await verifyLicense(fx.license, opts({ clusterId: "other-cluster" }))).toMatchObject({
      ok: false,
      reason: "wrong-cluster",
    });
  });

  it("refuses malformed input and other token kinds signed by the governance key", async () => {
    for (const bad of [
      "",
      "abc",
      "a.b.c",
      `${fx.license}x`.replace(/\.[^.]*$/, ".!!"),
      "x".repeat(5000),
    ]) {
      const r = await verifyLicense(bad, opts());
      expect(r.ok).toBe(false);
      expect(["malformed", "unknown-signer"]).toContain(!r.ok && r.reason);
    }
    // Right key, wrong typ: e.g. a theater token signed with a governance key must not pass.
    const key = await importJWK({ ...fx.governance }, "EdDSA");
    const claims = decodeJwt(fx.license);
    const wrongTyp = await new SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid: fx.governance.kid })
      .sign(key);
    expect(await verifyLicense(wrongTyp, opts())).toMatchObject({ ok: false, reason: "malformed" });
    const noCnf = await new SignJWT({ ...claims, cnf: undefined })
      .setProtectedHeader({ alg: "EdDSA", typ: "tessera-license+jwt", kid: fx.governance.kid })
      .sign(key);
    expect(await verifyLicense(noCnf, opts())).toMatchObject({ ok: false, reason: "malformed" });
  });

  it("refuses to issue nonsense", async () => {
    const base = {
      governanceKey: fx.governance,
      theaterId: "th-odeon",
      name: "Odéon",
      theaterKey: publicOf(fx.theaterKey),
      scopes: ["events"],
      clusterId: CLUSTER,
      now: T0,
      ttlS: 3600,
    };
    await expect(issueLicense({ ...base, theaterId: "bad id!" })).rejects.toThrow(/theater id/);
    await expect(issueLicense({ ...base, scopes: [] })).rejects.toThrow(/scope/);
    await expect(issueLicense({ ...base, scopes: ["Bad Scope"] })).rejects.toThrow(/scope/);
    await expect(issueLicense({ ...base, ttlS: 0 })).rejects.toThrow(/lifetime/);
  });
});

describe("theater tokens", () => {
  const NOW = T0 + DAY_MS;
  const vopts = (over: Partial<Parameters<typeof verifyTheaterToken>[1]> = {}) => ({
    governanceKeys: [publicOf(fx.governance)],
    now: NOW,
    revoked: new Set<string>(),
    clusterId: CLUSTER,
    method: "POST",
    path: "/v1/events",
    ...over,
  });
  const mint = (over: Partial<Parameters<typeof createTheaterToken>[0]> = {}) =>
    createTheaterToken({
      license: fx.license,
      theaterKey: fx.theaterKey,
      method: "post",
      path: "/v1/events",
      now: NOW,
      ...over,
    });

  it("admits a good token and names the theater", async () => {
    const t = await mint();
    expect(decodeProtectedHeader(t)).toMatchObject({ typ: "tessera-theater+jwt", lic: fx.license });
    expect(decodeJwt(t)).toMatchObject({ sub: "th-odeon", htm: "POST", htu: "/v1/events" });
    expect(await verifyTheaterToken(t, vopts())).toEqual({
      ok: true,
      theater: {
        id: "th-odeon",
        name: "Odéon",
        scopes: ["venues", "events", "orders", "sales"],
        licenseId: "lic-1",
      },
    });
  });

  it("passes license refusals through as 401", async () => {
    const t = await mint();
    expect(await verifyTheaterToken(t, vopts({ revoked: new Set(["lic-1"]) }))).toMatchObject({
      ok: false,
      status: 401,
      reason: "revoked",
    });
    expect(await verifyTheaterToken(t, vopts({ clusterId: "elsewhere" }))).toMatchObject({
      status: 401,
      reason: "wrong-cluster",
    });
    const foreign = await makeFixture();
    expect(
      await verifyTheaterToken(t, vopts({ governanceKeys: [publicOf(foreign.governance)] })),
    ).toMatchObject({ status: 401, reason: "unknown-signer" });
    // A token on an expired license, though the token itself is fresh.
    const late = T0 + 40 * DAY_MS;
    expect(await verifyTheaterToken(await mint({ now: late }), vopts({ now: late }))).toMatchObject(
      { status: 401, reason: "expired" },
    );
  });

  it("refuses a token signed by a different theater key than the license certifies", async () => {
    const other = await generateEd25519Jwk("theater");
    const t = await mint({ theaterKey: other });
    expect(await verifyTheaterToken(t, vopts())).toMatchObject({
      ok: false,
      status: 401,
      reason: "bad-token-signature",
    });
    // Also with the licensed kid pasted in.
    const t2 = await mint({ theaterKey: { ...other, kid: fx.theaterKey.kid } });
    expect(await verifyTheaterToken(t2, vopts())).toMatchObject({ reason: "bad-token-signature" });
  });

  it("refuses a token bound to another method or path", async () => {
    const t = await mint();
    expect(await verifyTheaterToken(t, vopts({ method: "DELETE" }))).toMatchObject({
      status: 401,
      reason: "wrong-binding",
    });
    expect(await verifyTheaterToken(t, vopts({ path: "/v1/events/e1" }))).toMatchObject({
      status: 401,
      reason: "wrong-binding",
    });
  });

  it("refuses an expired token and one issued in the future", async () => {
    const t = await mint({ ttlS: 60 });
    expect(await verifyTheaterToken(t, vopts({ now: NOW + 120_000 }))).toMatchObject({
      status: 401,
      reason: "token-expired",
    });
    const future = await mint({ now: NOW + 10 * 60_000 });
    expect(await verifyTheaterToken(future, vopts())).toMatchObject({
      status: 401,
      reason: "token-not-yet-valid",
    });
  });

  it("refuses a token whose exp is too far ahead (hand-made, since createTheaterToken won't)", async () => {
    await expect(mint({ ttlS: 301 })).rejects.toThrow(/lifetime/);
    const iat = NOW / 1000;
    const t = await new SignJWT({ htm: "POST", htu: "/v1/events" })
      .setProtectedHeader({ alg: "EdDSA", typ: "tessera-theater+jwt", lic: fx.license })
      .setSubject("th-odeon")
      .setIssuedAt(iat)
      .setExpirationTime(iat + 24 * 3600)
      .setJti("t1")
      .sign(await importJWK({ ...fx.theaterKey }, "EdDSA"));
    expect(await verifyTheaterToken(t, vopts())).toMatchObject({
      status: 401,
      reason: "token-lifetime-too-long",
    });
  });

  it("refuses a token whose subject is not the license's", async () => {
    const iat = NOW / 1000;
    const t = await new SignJWT({ htm: "POST", htu: "/v1/events" })
      .setProtectedHeader({ alg: "EdDSA", typ: "tessera-theater+jwt", lic: fx.license })
      .setSubject("th-someone-else")
      .setIssuedAt(iat)
      .setExpirationTime(iat + 60)
      .setJti("t1")
      .sign(await importJWK({ ...fx.theaterKey }, "EdDSA"));
    expect(await verifyTheaterToken(t, vopts())).toMatchObject({ status: 401, ok: false });
  });

  it("refuses garbage and a token without a license", async () => {
    expect(await verifyTheaterToken("nope", vopts())).toMatchObject({ reason: "malformed-token" });
    const t = await new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA" })
      .sign(await importJWK({ ...fx.theaterKey }, "EdDSA"));
    expect(await verifyTheaterToken(t, vopts())).toMatchObject({ reason: "malformed-token" });
  });

  it("answers 403 when the license lacks a required scope", async () => {
    const narrow = await makeFixture({ scopes: ["sales"] });
    const t = await createTheaterToken({
      license: narrow.license,
      theaterKey: narrow.theaterKey,
      method: "POST",
      path: "/v1/events",
      now: NOW,
    });
    const r = await verifyTheaterToken(
      t,
      vopts({ governanceKeys: [publicOf(narrow.governance)], requiredScopes: ["events"] }),
    );
    expect(r).toMatchObject({ ok: false, status: 403, reason: "insufficient-scope" });
  });
});
