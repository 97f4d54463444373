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
}

export function problemResponse(p: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(p), {
    status: p.status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
}

export function sendProblem(c: Context, err: ProblemError): Response {
  return problemResponse({ ...err.problem, instance: c.req.path }, err.headers);
}
