import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import type { PrivateJwk, PublicJwk } from "../config.ts";

/** A fresh Ed25519 key pair as JWKs, `kid` = the RFC 7638 thumbprint prefixed by `prefix`. */
export async function generateEd25519Jwk(prefix: string): Promise<PrivateJwk> {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const jwk = await exportJWK(privateKey);
  const thumb = await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: jwk.x! });
  return {
    kty: "OKP",
    crv: "Ed25519",
    x: jwk.x!,
    d: jwk.d!,
    kid: `${prefix}-${thumb.slice(0, 16)}`,
  };
}

export function publicOf(jwk: PrivateJwk): PublicJwk {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid };
}
