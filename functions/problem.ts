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
  return new Response(JSON.stringify(p), {
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
