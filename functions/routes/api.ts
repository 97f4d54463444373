import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { int32 } from "../../shared/domain/bounds.ts";
import {
  IDEMPOTENCY_HEADER_PATTERN,
  IdempotencyKeyHeader,
} from "../../shared/domain/idempotency-key.ts";
import { PROBLEM_LIMITS, ProblemError } from "../problem.ts";

/*
 * What every API route shares, whichever app registers it: the answer to a request that fails its
 * schema, the problem document of every refusal, and the response, body and paging shapes the
 * OpenAPI document states.
 */

/**
 * Validation problems are judged by the hook of the app that registered the route (the root app or
 * a sub-app), so each passes this one: one problem listing every issue.
 */
export const validationHook = (result: {
  success: boolean;
  error?: { issues: readonly { path: readonly PropertyKey[]; code: string; message: string }[] };
}) => {
  if (!result.success) {
    throw new ProblemError(400, "validation", "Invalid request", undefined, {
      errors: (result.error?.issues ?? []).map((i) => ({
        path: `/${i.path.map(String).join("/")}`,
        code: i.code,
        message: i.message,
      })),
    });
  }
};

/** RFC 9457 problem details, as every refusal is shaped (functions/problem.ts). */
export const ProblemSchema = z
  .object({
    type: z
      .string()
      .max(PROBLEM_LIMITS.type)
      .meta({ description: "Stable URI of the problem type.", format: "uri" }),
    title: z.string().max(PROBLEM_LIMITS.title),
    status: int32(400, 599),
    detail: z.string().max(PROBLEM_LIMITS.detail).optional(),
    instance: z.string().max(PROBLEM_LIMITS.instance).optional(),
    errors: z
      .array(
        z
          .object({
            path: z.string().max(PROBLEM_LIMITS.path),
            code: z.string().max(PROBLEM_LIMITS.code),
            message: z.string().max(PROBLEM_LIMITS.message),
          })
          .openapi("ProblemIssue"),
      )
      .max(PROBLEM_LIMITS.errors)
      .optional()
      .meta({ description: "Every problem with the input, each at a JSON Pointer path." }),
  })
  .catchall(z.unknown())
  .openapi("Problem");

const PROBLEM_TEXT: Record<number, string> = {
  304: "Not modified",
  400: "Invalid request (every validation problem listed)",
  401: "Missing or invalid credentials",
  402: "Payment declined",
  403: "Credentials lack a needed scope",
  404: "Unknown, or not yours / not visible to you",
  409: "Conflicts with the current state, or the same request is still in flight",
  410: "Gone (a hold that expired)",
  412: "If-Match precondition failed",
  413: "Request too large",
  422: "Semantically invalid (every problem listed), or Idempotency-Key reused",
  503: "Quorum short or outcome unknown: retry (Retry-After), with the same Idempotency-Key",
};

/** Problem responses for the OpenAPI document. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((st) => [
      st,
      {
        description: PROBLEM_TEXT[st] ?? "Problem",
        content: { "application/problem+json": { schema: ProblemSchema } },
      },
    ]),
  );
}

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

/*
 * Response headers as the document states them. Locations are this API's own paths (a few ids
 * long); ETags are quoted hashes; the other values are fixed strings with at most an id in them.
 */
export const LocationHeader = z
  .string()
  .max(512)
  .meta({ description: "Path of the new resource." });
export const EtagHeader = z.string().max(100).meta({ description: "Strong validator (quoted)." });
export const ContentDispositionHeader = z.string().max(256);
export const CacheControlHeader = z.string().max(100);
export const ServerTimingHeader = z
  .string()
  .max(500)
  .meta({
    description:
      "W3C Server-Timing: how long the steps of this request took on the server, in ms " +
      "(informational; names and steps may change).",
  });

/** Collects a request's step timings (ms) as the value of its Server-Timing header. */
export function serverTimingSteps(): {
  timing: (step: string, ms: number) => void;
  header(): string;
} {
  const steps: string[] = [];
  return {
    timing: (step, ms) => {
      steps.push(`${step};dur=${ms.toFixed(1)}`);
    },
    header: () => steps.join(", "),
  };
}

/**
 * The platform's way to keep working after the answer: Workers' `waitUntil`, and Vercel's, which
 * its adapter hands in the same way (Hono's execution context). Undefined where the platform has
 * none (Lambda behind API Gateway freezes at the answer), and work must then finish first.
 */
export function afterAnswer(c: Context): ((work: Promise<unknown>) => void) | undefined {
  let ctx: { waitUntil?: unknown };
  try {
    ctx = c.executionCtx;
  } catch {
    return undefined;
  }
  const waitUntil = ctx.waitUntil;
  return typeof waitUntil === "function" ? (work) => waitUntil.call(ctx, work) : undefined;
}

/** Longest list cursor: an opaque base64url position (a store key at most 512 bytes, encoded). */
export const CURSOR_MAX_LENGTH = 1024;

/** Most items one list page returns: bounds response size and per-request store reads. */
export const PAGE_LIMIT_MAX = 100;
export const PAGE_LIMIT_DEFAULT = 20;

export const PageQuery = z.object({
  cursor: z
    .string()
    .max(CURSOR_MAX_LENGTH)
    .optional()
    .openapi({ description: "`nextCursor` of the previous page; omit for the first page." }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(PAGE_LIMIT_MAX)
    .default(PAGE_LIMIT_DEFAULT)
    .openapi({ description: `Items per page, 1-${PAGE_LIMIT_MAX}.`, format: "int32" }),
});

export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z
    .object({
      items: z.array(item).max(PAGE_LIMIT_MAX),
      nextCursor: z
        .string()
        .max(CURSOR_MAX_LENGTH)
        .optional()
        .meta({ description: "Present when more items follow: pass it as `cursor`." }),
    })
    .openapi(name);

/** The Idempotency-Key request header of every creating write, a buyer's or a theatre's (the
 * claims behind it: functions/services/idempotency.ts and the seat service's claims). */
export const IdempotencyHeaders = z.object({
  "idempotency-key": IdempotencyKeyHeader.openapi({
    param: { name: "idempotency-key", in: "header" },
    description:
      'Required. An RFC 8941 string (`"…"`, as the IETF draft defines the header) or the same key ' +
      "bare; both forms name one key. A retry with the same key (on any provider) replays the " +
      "first result; the same key with a different body is refused (422); a hold or purchase " +
      "whose first attempt is still running answers 409. Keys never expire.",
    example: '"9b2f0c1e-5d4a-4b7e-a1c3-2e6f8d9a0b17"',
    pattern: IDEMPOTENCY_HEADER_PATTERN,
  }),
});

/** Header the response carries when it replays the first request's result. */
export const REPLAYED_HEADER = "idempotent-replayed";
