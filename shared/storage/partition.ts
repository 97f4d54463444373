/**
 * Keys are '/'-separated paths, e.g. `seat/<event>/<section>/<seat>`. A key's partition is its path
 * without the last segment (`seat/<event>/<section>`): stores that shard (one Durable Object per
 * partition) keep every seat of a section together, so one event's onsale spreads over as many
 * objects as it has sections while a multi-seat order in one section stays one call.
 */
export function partitionOf(key: string): string {
  const i = key.lastIndexOf("/");
  return i <= 0 ? "_" : key.slice(0, i);
}

const KEY_RE = /^[\x21-\x7e]{1,512}$/;
export function isValidKey(key: string): boolean {
  return KEY_RE.test(key);
}
