import fc from "fast-check";

/**
 * A small JSON Schema (OpenAPI 3.1 dialect, as zod emits it) → fast-check arbitrary generator:
 * enough of the vocabulary to produce values the API's own validators accept most of the time
 * (types, enum/const, string lengths, patterns and formats, number bounds, arrays, objects with
 * required/optional properties, anyOf/oneOf/allOf, $ref into components), so fuzzing reaches the
 * handlers and not only the validation layer.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema is untyped JSON
export type Schema = Record<string, any>;

/** Generated values stay small: the nasty-value arbitraries cover the big ones on purpose. */
const STRING_MAX_DEFAULT = 24;
const ARRAY_MAX_DEFAULT = 4;
/** Recursion guard for self-referencing schemas. */
const DEPTH_MAX = 6;

export interface GenContext {
  /** components.schemas of the document, for $ref. */
  readonly components: Record<string, Schema>;
  /** Hand-picked values per property name (ids that exist, a working card...), mixed in. */
  readonly known?: Readonly<Record<string, readonly unknown[]>>;
}

function resolve(s: Schema, ctx: GenContext): Schema {
  let cur = s;
  for (let i = 0; i < 20 && typeof cur.$ref === "string"; i++) {
    const name = cur.$ref.replace(/^#\/components\/schemas\//, "");
    const target = ctx.components[name];
    if (!target) return {};
    cur = { ...target, ...Object.fromEntries(Object.entries(cur).filter(([k]) => k !== "$ref")) };
  }
  return cur;
}

function stringArb(s: Schema): fc.Arbitrary<string> {
  const minLength = typeof s.minLength === "number" ? s.minLength : 0;
  const maxLength =
    typeof s.maxLength === "number"
      ? Math.min(s.maxLength, Math.max(minLength, STRING_MAX_DEFAULT))
      : Math.max(minLength, STRING_MAX_DEFAULT);
  switch (s.format) {
    case "date-time":
      return fc
        .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
        .map((d) => d.toISOString());
    case "date":
      return fc
        .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
    case "email":
      return fc.emailAddress();
    case "uri":
    case "url":
      return fc.webUrl();
    case "uuid":
      return fc.uuid();
    default:
      break;
  }
  if (typeof s.pattern === "string") {
    try {
      const re = new RegExp(s.pattern);
      return fc
        .stringMatching(re)
        .filter(
          (x) => x.length >= minLength && x.length <= (s.maxLength ?? Number.MAX_SAFE_INTEGER),
        );
    } catch {
      // A pattern fast-check cannot invert: plain strings (the validator will refuse some).
    }
  }
  return fc.string({ minLength, maxLength });
}

function numberArb(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const lo =
    typeof s.exclusiveMinimum === "number"
      ? s.exclusiveMinimum + (integer ? 1 : Number.EPSILON)
      : typeof s.minimum === "number"
        ? s.minimum
        : integer
          ? -1000
          : -1e6;
  const hi =
    typeof s.exclusiveMaximum === "number"
      ? s.exclusiveMaximum - (integer ? 1 : Number.EPSILON)
      : typeof s.maximum === "number"
        ? s.maximum
        : integer
          ? 1_000_000
          : 1e6;
  if (integer) {
    const min = Math.max(Number.MIN_SAFE_INTEGER, Math.ceil(lo));
    const max = Math.min(Number.MAX_SAFE_INTEGER, Math.floor(hi));
    return max >= min ? fc.integer({ min, max }) : fc.constant(min);
  }
  return fc.double({ min: lo, max: Math.max(lo, hi), noNaN: true, noDefaultInfinity: true });
}

export function arbitraryOf(schema: Schema, ctx: GenContext, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, ctx);
  if (depth > DEPTH_MAX) return fc.constant(null);
  if ("const" in s) return fc.constant(s.const);
  if (Array.isArray(s.enum) && s.enum.length > 0) return fc.constantFrom(...s.enum);
  const alts = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(alts) && alts.length > 0) {
    return fc.oneof(...alts.map((a) => arbitraryOf(a, ctx, depth + 1)));
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) {
    const merged = (s.allOf as Schema[]).map((a) => resolve(a, ctx));
    const union: Schema = { type: "object", properties: {}, required: [] };
    for (const m of merged) {
      Object.assign(union.properties, m.properties ?? {});
      union.required.push(...(m.required ?? []));
    }
    return arbitraryOf(union, ctx, depth + 1);
  }
  const type = Array.isArray(s.type) ? s.type : s.type ? [s.type] : undefined;
  if (type && type.length > 1) {
    return fc.oneof(...type.map((t: string) => arbitraryOf({ ...s, type: t }, ctx, depth)));
  }
  switch (type?.[0]) {
    case "string":
      return stringArb(s);
    case "integer":
      return numberArb(s, true);
    case "number":
      return numberArb(s, false);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const minLength = typeof s.minItems === "number" ? s.minItems : 0;
      const maxLength =
        typeof s.maxItems === "number"
          ? Math.min(s.maxItems, Math.max(minLength, ARRAY_MAX_DEFAULT))
          : Math.max(minLength, ARRAY_MAX_DEFAULT);
      return fc.array(arbitraryOf(s.items ?? {}, ctx, depth + 1), { minLength, maxLength });
    }
    case "object":
      return objectArb(s, ctx, depth);
    default:
      if (s.properties) return objectArb(s, ctx, depth);
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function objectArb(s: Schema, ctx: GenContext, depth: number): fc.Arbitrary<unknown> {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set<string>(s.required ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, p] of Object.entries(props)) {
    const generated = arbitraryOf(p, ctx, depth + 1);
    const known = ctx.known?.[name];
    model[name] =
      known && known.length > 0
        ? fc.oneof(
            { arbitrary: fc.constantFrom(...known), weight: 3 },
            { arbitrary: generated, weight: 1 },
          )
        : generated;
  }
  const requiredKeys = Object.keys(model).filter((k) => required.has(k));
  const rec = fc.record(model, { requiredKeys });
  if (s.additionalProperties && typeof s.additionalProperties === "object") {
    return fc
      .tuple(
        rec,
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }),
          arbitraryOf(s.additionalProperties, ctx, depth + 1),
          {
            maxKeys: 3,
          },
        ),
      )
      .map(([a, b]) => ({ ...b, ...(a as object) }));
  }
  return rec;
}
