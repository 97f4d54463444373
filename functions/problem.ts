import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * RFC 9457 problem details. Every refusal the API makes goes through here so that clients get one
 * machine-readable shape: `type` is a stable URI under /problems, `title` never changes for a type,
 * `detail` explains this occurrence.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_BASE = "https://tessera.dev/problems/";

/**
 * Bounds of every problem the API sends, as the OpenAPI document states them; problemResponse
 * enforces them, so a detail built from many issues (or an issue echoing a long input) can never
 * outgrow what clients were told. `errors` holds a plan's MAX_PLAN_ERRORS plus the overflow marker.
 */
export const PROBLEM_LIMITS = {
  type: 200,
  title: 200,
  detail: 4000,
  instance: 2048,
  errors: 1001,
  path: 1024,
  code: 64,
  message: 1000,
} as const;

const clip = (s: unknown, max: number) =>
  typeof s === "string" && s.length > max ? `${s.slice(0, max - 1)}…` : s;

interface Issue {
  path?: unknown;
  code?: unknown;
  message?: unknown;
}

/** The problem cut to PROBLEM_LIMITS (a too long list keeps its first entries). */
export function boundedProblem(p: Problem): Problem {
  const L = PROBLEM_LIMITS;
  const out: Problem = {
    ...p,
    type: clip(p.type, L.type) as string,
    title: clip(p.title, L.title) as string,
  };
  if (p.detail !== undefined) out.detail = clip(p.detail, L.detail) as string;
  if (p.instance !== undefined) out.instance = clip(p.instance, L.instance) as string;
  if (Array.isArray(p.errors)) {
    out.errors = (p.errors as Issue[]).slice(0, L.errors).map((i) => ({
      ...i,
      path: clip(i.path, L.path),
      code: clip(i.code, L.code),
      message: clip(i.message, L.message),
    }));
  }
  return out;
}

export class ProblemError extends Error {
  readonly problem: Problem;
  readonly headers: Record<string, string>;
  /** What went wrong inside (driver or peer error text): logged with the request id, never sent. */
  diagnostic?: string;
  constructor(
    status: ContentfulStatusCode,
    slug: string,
    title: string,
    detail?: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.problem = {
      type: `${PROBLEM_BASE}${slug}`,
      title,
      status,
      ...(detail ? { detail } : {}),
      ...extra,
    };
    this.headers = headers;
  }

  /** Attaches internal error text for the log; the caller sees only the problem. */
  logging(diagnostic: string): this {
    this.diagnostic = diagnostic;
    return this;
  }
}

/** Error text of anything thrown, for logs only. */
export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function problemResponse(p: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(boundedProblem(p)), {
    status: p.status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

/** With `requestId` (server errors), the answer names the id its log line carries. */
export function sendProblem(c: Context, err: ProblemError, requestId?: string): Response {
  if (requestId === undefined) {
    return problemResponse({ ...err.problem, instance: c.req.path }, err.headers);
  }
  return problemResponse(
    { ...err.problem, instance: c.req.path, requestId },
    { ...err.headers, "x-request-id": requestId },
  );
}
