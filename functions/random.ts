import { toBase64Url } from "../shared/crypto/base64.ts";

/**
 * The one source of randomness of the app: Web Crypto on every runtime. Math.random is predictable
 * (its state can be recovered from a few outputs), so nothing here or in the services uses it, not
 * even for retry jitter, which keeps "no Math.random in functions/ or shared/" a rule one can grep.
 */

/** n bytes from the platform CSPRNG. */
export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** Uniform in [0, 1) with 32 bits of resolution, for backoff jitter. */
export function randomFraction(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32;
}

/** A fresh entity id: a prefix naming the kind plus 96 random bits (base64url), never reused. */
export function newEntityId(prefix: string): string {
  return `${prefix}${toBase64Url(randomBytes(12))}`;
}
