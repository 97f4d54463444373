import { z } from "@hono/zod-openapi";

/** Longest display name: fits any venue or production title, bounds what lists send. */
export const NAME_MAX_LENGTH = 200;
/** Longest free text (event descriptions): a few paragraphs, keeps one event record small. */
export const DESCRIPTION_MAX_LENGTH = 10_000;
/** Short label of a seat or row as printed on a ticket ("12", "A", "Box 3"). */
export const LABEL_MAX_LENGTH = 32;

/*
 * Characters no human-readable text may hold: control characters (\p{Cc} = U+0000–U+001F and
 * U+007F–U+009F: NUL, ESC… corrupt terminals, logs and door scanners), and the bidi overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069), which make a title display as something other than what
 * it is ("Trojan Source"). Spelled as plain ranges rather than \p{Cc} so the OpenAPI `pattern` is
 * understood by every JSON Schema validator, with or without Unicode regex support.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the controls are what this rejects
const SAFE_LINE = /^[^\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$/;
/** The same, but tab, line feed and carriage return are let through. */
const SAFE_TEXT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the controls are what this rejects
  /^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]*$/;

const SAFE_LINE_MESSAGE =
  "must be a single line without control characters or bidi overrides (U+202A-U+202E, U+2066-U+2069)";
const SAFE_TEXT_MESSAGE =
  "must not contain control characters other than tab and line breaks, nor bidi overrides (U+202A-U+202E, U+2066-U+2069)";

/** Whether `s` is safe to show as one line: no control characters, no bidi overrides/isolates. */
export function isSafeLine(s: string): boolean {
  return SAFE_LINE.test(s);
}

/** A trimmed, non-empty single line of display text of at most `max` characters. */
export const displayLine = (max: number) =>
  z.string().trim().min(1, "must not be empty").max(max).regex(SAFE_LINE, SAFE_LINE_MESSAGE);

/** Display text of at most `max` characters that may span lines (descriptions, addresses). */
export const displayText = (max: number) => z.string().max(max).regex(SAFE_TEXT, SAFE_TEXT_MESSAGE);

/** Trimmed, non-empty, single-line display text. */
export const Name = displayLine(NAME_MAX_LENGTH);

export const Label = displayLine(LABEL_MAX_LENGTH);

/** Free text shown to buyers (event descriptions): paragraphs allowed. */
export const Description = displayText(DESCRIPTION_MAX_LENGTH);
