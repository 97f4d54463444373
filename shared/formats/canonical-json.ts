/**
 * Deterministic JSON: object members sorted by key (UTF-16 code unit order), no whitespace. For the
 * values Tessera signs and hashes (strings, integers, booleans, null, arrays, objects) this is the
 * JSON Canonicalization Scheme (RFC 8785): JSON.stringify already serializes strings and finite
 * numbers the way JCS requires, so only member order is ours to fix. Anything JSON cannot carry
 * faithfully (NaN, Infinity, bigint, functions, undefined in arrays) is refused instead of being
 * silently changed, because a signature over a silently changed value would not mean what the signer
 * meant.
 */
export class CanonicalJsonError extends TypeError {
  override name = "CanonicalJsonError";
}

const enc = new TextEncoder();

export function canonicalJson(value: unknown): string {
  return write(value, "$");
}

export function canonicalBytes(value: unknown): Uint8Array {
  return enc.encode(canonicalJson(value));
}

function write(v: unknown, path: string): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "string":
    case "boolean":
      return JSON.stringify(v);
    case "number":
      if (!Number.isFinite(v)) throw new CanonicalJsonError(`${path}: non-finite number`);
      return JSON.stringify(v);
    case "object": {
      if (Array.isArray(v)) {
        return `[${v.map((x, i) => {
          if (x === undefined) throw new CanonicalJsonError(`${path}[${i}]: undefined`);
          return write(x, `${path}[${i}]`);
        })}]`;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalJsonError(`${path}: not a plain object`);
      }
      const members: string[] = [];
      for (const k of Object.keys(v).sort()) {
        const x = (v as Record<string, unknown>)[k];
        // Absent and undefined are the same thing to JSON; optional fields are simply omitted.
        if (x === undefined) continue;
        members.push(`${JSON.stringify(k)}:${write(x, `${path}.${k}`)}`);
      }
      return `{${members.join(",")}}`;
    }
    default:
      throw new CanonicalJsonError(`${path}: ${typeof v} is not JSON`);
  }
}
