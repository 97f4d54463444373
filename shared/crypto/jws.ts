import { FlattenedSign, flattenedVerify, importJWK } from "jose";
import { PROVIDERS, type PrivateJwk, type ProviderId, type PublicJwk } from "../config.ts";
import { fromBase64UrlStrict, toBase64Url } from "./base64.ts";

/**
 * Provider signatures over a payload carried elsewhere: one `{protected, signature}` per signer, as
 * in the `signatures` array of a JWS JSON General Serialization (RFC 7515 §7.2.1). Tickets, buyer
 * exports and audit segments all use this shape so one verifier serves them all.
 *
 * The protected header is built with a fixed member order so that it can be rebuilt byte for byte
 * from (provider, kid, typ): the compact ticket form drops it and reconstructs it at the door.
 */
export interface JwsSignature {
  protected: string;
  signature: string;
}

// A type alias, not an interface: jose wants a header with an index signature.
export type ProviderHeader = {
  alg: "EdDSA";
  kid: string;
  tessera_provider: ProviderId;
  typ?: string;
};

/** Only EdDSA (Ed25519): the cluster's keys are Ed25519 and accepting more algorithms only widens
 * what a forger may try. */
const ALGORITHMS = ["EdDSA"];
/** A protected header longer than this is not one we wrote (ours are ~100 chars). */
const MAX_PROTECTED_CHARS = 512;

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

export function providerHeader(provider: ProviderId, kid: string, typ?: string): ProviderHeader {
  return typ === undefined
    ? { alg: "EdDSA", kid, tessera_provider: provider }
    : { alg: "EdDSA", kid, tessera_provider: provider, typ };
}

/** The base64url form of `providerHeader(...)`, exactly as the signer produces it. */
export function encodeProviderHeader(provider: ProviderId, kid: string, typ?: string): string {
  return toBase64Url(enc.encode(JSON.stringify(providerHeader(provider, kid, typ))));
}

export async function signDetached(
  payload: Uint8Array,
  key: PrivateJwk,
  provider: ProviderId,
  typ?: string,
): Promise<JwsSignature> {
  const privateKey = await importJWK({ ...key, alg: "EdDSA" }, "EdDSA");
  const jws = await new FlattenedSign(payload)
    .setProtectedHeader(providerHeader(provider, key.kid, typ))
    .sign(privateKey);
  return { protected: jws.protected!, signature: jws.signature };
}

/** Decodes a protected header into the fields we rely on, or null when it is not one of ours. */
export function decodeProviderHeader(encoded: string): ProviderHeader | null {
  if (encoded.length > MAX_PROTECTED_CHARS || !/^[A-Za-z0-9_-]+$/.test(encoded)) return null;
  let h: unknown;
  try {
    h = JSON.parse(dec.decode(fromBase64UrlStrict(encoded)));
  } catch {
    return null;
  }
  if (typeof h !== "object" || h === null || Array.isArray(h)) return null;
  const r = h as Record<string, unknown>;
  if (r.alg !== "EdDSA" || typeof r.kid !== "string" || r.kid.length === 0) return null;
  if (!PROVIDERS.includes(r.tessera_provider as ProviderId)) return null;
  if (r.typ !== undefined && typeof r.typ !== "string") return null;
  return providerHeader(r.tessera_provider as ProviderId, r.kid, r.typ);
}

/** True when `sig` is a valid Ed25519 signature by `key` over `encodedPayload` (base64url). */
export async function verifyDetached(
  encodedPayload: string,
  sig: JwsSignature,
  key: PublicJwk,
): Promise<boolean> {
  try {
    const publicKey = await importJWK({ ...key, alg: "EdDSA" }, "EdDSA");
    await flattenedVerify(
      { payload: encodedPayload, protected: sig.protected, signature: sig.signature },
      publicKey,
      { algorithms: ALGORITHMS },
    );
    return true;
  } catch {
    return false;
  }
}
