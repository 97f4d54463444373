import { z } from "@hono/zod-openapi";
import { IDEMPOTENCY_KEY_PATTERN } from "./ids.ts";

/**
 * The Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header): a Structured
 * Field Item whose value is a String (RFC 8941 §3.3.3), e.g. `"8e03978e-40d5-43e8-bc93-6894a57f9324"`.
 * The bare form (`8e03978e-…`, what clients sent before the draft) is accepted too and names the
 * same key, so a client switching forms mid-retry still replays. Either way the key itself must fit
 * the segment rule of IDEMPOTENCY_KEY_PATTERN (it becomes part of a store key); parameters
 * (`"k";p=1`) are refused rather than ignored, since a retry that drops them would be another key.
 */

/** Longest accepted header value: a 64-character key in quotes. */
export const IDEMPOTENCY_HEADER_MAX = 66;

export type ParsedKey =
  | { readonly ok: true; readonly key: string }
  | { readonly ok: false; readonly reason: string };

const fail = (reason: string): ParsedKey => ({ ok: false, reason });

/**
 * RFC 8941 §4.2.5 (Parsing a String) applied to a whole field value: the sf-string must start at
 * the first character and end at the last. Answers the unescaped content.
 */
export function parseSfString(input: string): ParsedKey {
  if (!input.startsWith('"')) return fail("an sf-string starts with a double quote");
  let out = "";
  for (let i = 1; i < input.length; i++) {
    const c = input[i]!;
    const code = c.charCodeAt(0);
    if (c === "\\") {
      const next = input[++i];
      if (next !== '"' && next !== "\\") return fail('only \\" and \\\\ may be escaped');
      out += next;
    } else if (c === '"') {
      if (i !== input.length - 1)
        return fail("nothing may follow the closing quote (no parameters)");
      return { ok: true, key: out };
    } else if (code < 0x20 || code > 0x7e) {
      return fail("an sf-string holds printable ASCII only");
    } else {
      out += c;
    }
  }
  return fail("the sf-string has no closing quote");
}

/** The key an Idempotency-Key field value names, in either form. */
export function parseIdempotencyKey(field: string): ParsedKey {
  // RFC 8941 §4.2: leading and trailing spaces are discarded before parsing.
  const v = field.replace(/^ +| +$/g, "");
  const parsed = v.startsWith('"') ? parseSfString(v) : { ok: true as const, key: v };
  if (!parsed.ok) return parsed;
  if (!IDEMPOTENCY_KEY_PATTERN.test(parsed.key)) {
    return fail("the key must be 1-64 characters of A-Z, a-z, 0-9, '_', '.', ':' or '-'");
  }
  return parsed;
}

/** Both accepted forms as one pattern, for the OpenAPI document (the parser decides). */
export const IDEMPOTENCY_HEADER_PATTERN = '^ *(?:"[A-Za-z0-9_.:-]{1,64}"|[A-Za-z0-9_.:-]{1,64}) *$';

/** The header as routes declare it: validated, and answering the bare key. */
export const IdempotencyKeyHeader = z
  .string()
  .max(IDEMPOTENCY_HEADER_MAX)
  .transform((v, ctx) => {
    const parsed = parseIdempotencyKey(v);
    if (parsed.ok) return parsed.key;
    ctx.addIssue({ code: "custom", message: `Idempotency-Key: ${parsed.reason}` });
    return z.NEVER;
  });
