/** base64url without padding (RFC 4648 §5), as JWS and PKCE use it. */
export function b64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function b64urlText(text: string): string {
  return b64url(new TextEncoder().encode(text));
}

export function fromB64url(s: string): Uint8Array {
  const b64 = s.replaceAll("-", "+").replaceAll("_", "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The payload of a compact JWS, unverified (the server verifies; the page only displays). */
export function jwsPayload(jws: string): Record<string, unknown> | undefined {
  const part = jws.split(".")[1];
  if (!part) return undefined;
  try {
    const v = JSON.parse(new TextDecoder().decode(fromB64url(part))) as unknown;
    return v && typeof v === "object" ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function randomB64url(bytes: number): string {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
}
