import { describe, expect, it } from "vitest";
import { makeTestCluster } from "../../scripts/local/throwaway-cluster.ts";
import {
  canBuyerAccessOrder,
  canBuyerSeeEvent,
  canTheaterAccess,
} from "../../shared/auth/access.ts";
import { AuthEnv } from "../../shared/auth/config.ts";
import { CommonEnv, loadConfig } from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";

describe("access rules", () => {
  it("theaters see only their own resources", () => {
    expect(canTheaterAccess("t1", { theaterId: "t1" })).toBe(true);
    expect(canTheaterAccess("t1", { theaterId: "t2" })).toBe(false);
  });

  it("event visibility", () => {
    const ada = { sub: "ada" };
    expect(canBuyerSeeEvent(undefined, { visibility: "public" })).toBe(true);
    expect(canBuyerSeeEvent(undefined, { visibility: "signed-in" })).toBe(false);
    expect(canBuyerSeeEvent(ada, { visibility: "signed-in" })).toBe(true);
    expect(canBuyerSeeEvent(ada, { visibility: "authorised" })).toBe(false);
    expect(canBuyerSeeEvent(ada, { visibility: "authorised", allowedBuyers: ["bob"] })).toBe(false);
    expect(canBuyerSeeEvent(ada, { visibility: "authorised", allowedBuyers: ["ada"] })).toBe(true);
    expect(canBuyerSeeEvent(undefined, { visibility: "authorised", allowedBuyers: ["ada"] })).toBe(
      false,
    );
    // A visibility this build does not know is hidden, not shown.
    expect(canBuyerSeeEvent(ada, { visibility: "members" as "public" })).toBe(false);
  });

  it("orders belong to their buyer", () => {
    expect(canBuyerAccessOrder({ sub: "ada" }, { buyerId: "ada" })).toBe(true);
    expect(canBuyerAccessOrder({ sub: "bob" }, { buyerId: "ada" })).toBe(false);
    expect(canBuyerAccessOrder(undefined, { buyerId: "ada" })).toBe(false);
  });
});

describe("AuthEnv", () => {
  it("merges into the common schema and parses JSON variables", async () => {
    const tc = await makeTestCluster();
    const gov = publicOf(await generateEd25519Jwk("gov"));
    const { TESSERA_OIDC_JWKS: _inline, ...env } = tc.envFor("aws");
    const cfg = loadConfig(CommonEnv.extend(AuthEnv.shape), {
      ...env,
      TESSERA_GOVERNANCE_KEYS: JSON.stringify([gov]),
      TESSERA_OIDC_ISSUER: "https://id.example.test",
      TESSERA_OIDC_AUDIENCE: "tessera",
      TESSERA_REVOKED_LICENSES: '["lic-9"]',
    });
    expect(cfg.TESSERA_GOVERNANCE_KEYS).toEqual([gov]);
    expect(cfg.TESSERA_REVOKED_LICENSES).toEqual(["lic-9"]);
    expect(cfg.TESSERA_OIDC_JWKS).toBeUndefined();
  });

  it("names every bad variable, and refuses private keys as governance keys", async () => {
    const priv = await generateEd25519Jwk("gov");
    const bad = () =>
      loadConfig(AuthEnv, {
        TESSERA_GOVERNANCE_KEYS: "[]",
        TESSERA_OIDC_ISSUER: "not a url",
        TESSERA_OIDC_JWKS: "{",
      });
    expect(bad).toThrow(/TESSERA_GOVERNANCE_KEYS/);
    expect(bad).toThrow(/TESSERA_OIDC_ISSUER/);
    expect(bad).toThrow(/TESSERA_OIDC_AUDIENCE/);
    expect(bad).toThrow(/TESSERA_OIDC_JWKS/);
    // zod strips `d`, so a pasted private key never sits in the parsed config.
    const cfg = loadConfig(AuthEnv.pick({ TESSERA_GOVERNANCE_KEYS: true }), {
      TESSERA_GOVERNANCE_KEYS: JSON.stringify([priv]),
    });
    expect(cfg.TESSERA_GOVERNANCE_KEYS[0]).not.toHaveProperty("d");
  });
});
