/**
 * What a license lets a theater manage. The list is open-ended (a license may carry a scope a
 * newer release introduces), so verification only checks the syntax; these are the ones known now.
 */
export const KNOWN_SCOPES = ["venues", "events", "orders", "sales"] as const;
export type KnownScope = (typeof KNOWN_SCOPES)[number];

/** One scope token: RFC 6749 §3.3 allows more, we keep it to what reads well in a header. */
export const SCOPE_RE = /^[a-z][a-z0-9:_-]{0,63}$/;

/** Splits an OAuth-style space-separated scope string, dropping duplicates and empties. */
export function parseScopes(scope: string): string[] {
  return [...new Set(scope.split(" ").filter((s) => s.length > 0))];
}
