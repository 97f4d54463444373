import { ID_MAX_LENGTH, isId } from "../domain/ids.ts";

/** "Parkett links" → "parkett-links": a readable id from a name, or "" when nothing is left. */
export function slugify(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, ID_MAX_LENGTH - 8)
    .replace(/-+$/, "");
}

/**
 * Hands out ids unique within one scope: the preferred id when it is a valid, unused id, otherwise
 * the fallback, suffixed "-2", "-3"… until unused. Deterministic, so re-importing the same file
 * yields the same ids.
 */
export class IdAllocator {
  private readonly used = new Set<string>();
  take(preferred: string | undefined, fallback: string): string {
    const base = preferred !== undefined && isId(preferred) ? preferred : fallback;
    let id = base;
    for (let n = 2; this.used.has(id); n++) id = `${base.slice(0, ID_MAX_LENGTH - 8)}-${n}`;
    this.used.add(id);
    return id;
  }
}
