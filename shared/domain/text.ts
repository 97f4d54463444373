import { z } from "@hono/zod-openapi";

/** Longest display name: fits any venue or production title, bounds what lists send. */
export const NAME_MAX_LENGTH = 200;
/** Longest free text (event descriptions): a few paragraphs, keeps one event record small. */
export const DESCRIPTION_MAX_LENGTH = 10_000;

/** Trimmed, non-empty, single-line display text. */
export const Name = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(NAME_MAX_LENGTH)
  .regex(/^[^\n\r\t]*$/, "must be a single line");

/** Short label of a seat or row as printed on a ticket ("12", "A", "Box 3"). */
export const LABEL_MAX_LENGTH = 32;
export const Label = z.string().trim().min(1, "must not be empty").max(LABEL_MAX_LENGTH);
