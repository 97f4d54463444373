import { fromBase64Url, toBase64Url } from "../../../shared/crypto/base64.ts";

/** base64url without padding (RFC 4648 §5), as JWS and PKCE use it. */
export const b64url = toBase64Url;

export function b64urlText(text: string): string {
  return b64url(new TextEncoder().encode(text));
}

/** The payload of a compact JWS, unverified (the server verifies; the page only displays). */
export function jwsPayload(jws: string): Record<string, unknown> | undefined {
  const part = jws.split(".")[1];
  if (!part) return undefined;
  try {
    const v = JSON.parse(new TextDecoder().decode(fromBase64Url(part))) as unknown;
    return v && typeof v === "object" ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function randomB64url(bytes: number): string {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
}
