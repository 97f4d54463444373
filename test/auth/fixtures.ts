import { issueLicense } from "../../shared/auth/license.ts";
import type { PrivateJwk } from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";

/** A governance key, a theater key and a license for that theater on "test-cluster". */
export const T0 = Date.UTC(2026, 10, 25, 12);
export const DAY_MS = 24 * 3600 * 1000;
export const CLUSTER = "test-cluster";

export interface Fixture {
  governance: PrivateJwk;
  theaterKey: PrivateJwk;
  license: string;
}

export async function makeFixture(
  over: { scopes?: string[]; now?: number; ttlS?: number; jti?: string } = {},
): Promise<Fixture> {
  const governance = await generateEd25519Jwk("gov");
  const theaterKey = await generateEd25519Jwk("theater");
  const license = await issueLicense({
    governanceKey: governance,
    theaterId: "th-odeon",
    name: "Odéon",
    theaterKey: publicOf(theaterKey),
    scopes: over.scopes ?? ["venues", "events", "orders", "sales"],
    clusterId: CLUSTER,
    now: over.now ?? T0,
    ttlS: over.ttlS ?? 30 * 24 * 3600,
    jti: over.jti ?? "lic-1",
  });
  return { governance, theaterKey, license };
}
