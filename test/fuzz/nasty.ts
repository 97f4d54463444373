import fc from "fast-check";

/**
 * Hand-picked hostile inputs, mixed into the schema-derived ones: what a careless client, a
 * scanner or an attacker sends. Each must end in a clear 4xx (or a normal answer), never a 5xx.
 */

/** Big enough to cross any sane body limit (the peer endpoint allows 4 MiB), small enough that a
 * test run stays fast. */
export const HUGE_CHARS = 5 * 1024 * 1024;
/** Deeper than any legitimate body, deep enough to break a naive recursive walker. */
export const DEEP_NESTING = 50_000;

/** A string built once: generating it per run would dominate the fuzzing time. */
const HUGE = "x".repeat(HUGE_CHARS);

export const nastyStrings: readonly string[] = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\uD800", // lone surrogate
  "\uFEFF\u202E\u200B", // BOM, right-to-left override, zero-width space
  "𝕋𝔢𝔰𝔰𝔢𝔯𝔞 🎭🎟️",
  "e\u0301\u0301\u0301",
  "../../etc/passwd",
  "..%2F..%2F",
  "%00",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell probe, literally
  "${jndi:ldap://x}",
  "__proto__",
  "constructor",
  "seat/ev/../x",
  "a".repeat(65),
  "a".repeat(513),
  "é".repeat(10_000),
];

/**
 * Hostile Idempotency-Key values around the RFC 8941 sf-string form the header takes (`"key"`):
 * unterminated and doubled quotes, escapes RFC 8941 forbids, parameters, lists, other item types,
 * key-segment tricks inside the quotes, and over-long keys. Each must be a 400 that writes nothing.
 */
export const nastyIdempotencyKeys: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '"',
    '""',
    '"abc',
    'abc"',
    '""abc""',
    '"abc"abc',
    '"abc";p=1',
    '"abc", "def"',
    '"a\\b"',
    '"a\\"',
    '"a\\x"',
    '"\\"',
    '"a b"',
    '"a/b"',
    '"../x"',
    '"seat/ev/x"',
    '"%2F"',
    "'abc'",
    ":YWJj:",
    "?1",
    "*abc",
    `"${"a".repeat(65)}"`,
    `"${"a".repeat(64)}" x`,
  ),
  // Key characters mixed with quotes, backslashes, slashes and separators, inside quotes.
  fc
    .string({ unit: fc.constantFrom(...'ab-_.:/ \\"%;=,'), minLength: 0, maxLength: 70 })
    .map((inner) => `"${inner}"`),
);

export const nastyNumbers: readonly number[] = [
  -1,
  0,
  -0,
  1.5,
  -1e308,
  1e308,
  Number.MAX_SAFE_INTEGER + 2,
  Number.MIN_SAFE_INTEGER - 2,
  2 ** 31,
  -(2 ** 31) - 1,
];

/** Any JSON value of a hostile kind (wrong type, extreme size or depth). */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(...nastyStrings),
  fc.constantFrom<unknown>(...nastyNumbers),
  fc.constantFrom<unknown>(null, true, false, [], {}, [null], { "": "" }),
  // Own "__proto__" keys, as JSON.parse makes them (an object literal would set the prototype).
  fc.constantFrom<unknown>(
    JSON.parse('{"__proto__":{"admin":true}}'),
    JSON.parse('{"constructor":{"prototype":{"admin":true}}}'),
  ),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Raw body texts that are not what the schema wants, some not even JSON. */
export const nastyBodyTexts: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    "{",
    '{"a":',
    "nul",
    "[]",
    "null",
    "42",
    '"text"',
    "1e999",
    '{"seats": 1e999}',
    '{"a":1,"a":2}',
    `${"[".repeat(DEEP_NESTING)}${"]".repeat(DEEP_NESTING)}`,
    `${'{"a":'.repeat(DEEP_NESTING)}1${"}".repeat(DEEP_NESTING)}`,
    `{"big":"${HUGE}"}`,
    `[${"0,".repeat(200_000)}0]`,
  ),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
);

/** Replaces the value at a random path inside `v` (objects and arrays) with a nasty value. */
export function mutateAt(v: unknown, pick: number, replacement: unknown): unknown {
  const paths: (string | number)[][] = [];
  const walk = (x: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (paths.length > 200) return;
    if (Array.isArray(x)) {
      for (const [i, y] of x.entries()) walk(y, [...path, i]);
    } else if (x !== null && typeof x === "object") {
      for (const [k, y] of Object.entries(x)) walk(y, [...path, k]);
    }
  };
  walk(v, []);
  const path = paths[pick % paths.length] ?? [];
  if (path.length === 0) return replacement;
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let cur: Record<string | number, unknown> = copy;
  for (const seg of path.slice(0, -1)) cur = cur[seg] as Record<string | number, unknown>;
  cur[path.at(-1) as string | number] = replacement;
  return copy;
}

/** Duplicates the first array found (e.g. the same seat twice in one hold). */
export function duplicateArrays(v: unknown): unknown {
  if (Array.isArray(v)) return v.length > 0 ? [...v, ...v] : v;
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, duplicateArrays(x)]));
  }
  return v;
}

export const nastyPathSegments: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...nastyStrings.filter((s) => s.length < 2000)),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
  fc.constantFrom("0", "-1", "null", "undefined", "x".repeat(5000)),
);
