/**
 * The credentials of `Authorization: <scheme> <credentials>` when the scheme matches
 * (case-insensitively, RFC 9110 §11.1); undefined when the header is absent or uses another scheme.
 */
export function credentialsFor(authorization: string | undefined, scheme: string) {
  if (!authorization) return undefined;
  const m = /^([A-Za-z0-9._~+/-]+) +(\S+) *$/.exec(authorization);
  if (!m || m[1]!.toLowerCase() !== scheme.toLowerCase()) return undefined;
  return m[2]!;
}

/** A quoted-string for WWW-Authenticate parameters: drop what cannot be quoted safely. */
export const quoted = (s: string) => `"${s.replace(/["\\\r\n]/g, "")}"`;
