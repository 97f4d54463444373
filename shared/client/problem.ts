/** One problem with the input, at a JSON Pointer path (RFC 9457 extension used by the API). */
export interface ProblemIssue {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/** An RFC 9457 problem+json answer as the API sends every refusal. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: readonly ProblemIssue[];
  readonly [extension: string]: unknown;
}

/**
 * A refusal from the API, typed: `type` is a stable URI (switch on it, or on `slug`, its last
 * segment), `errors` lists every input problem when there were several.
 */
export class TesseraProblemError extends Error {
  override name = "TesseraProblemError";
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string | undefined;
  readonly errors: readonly ProblemIssue[];
  /** Seconds the server asked to wait (Retry-After), when it did. */
  readonly retryAfterS: number | undefined;
  /** The whole problem document, extensions included. */
  readonly problem: Problem;

  constructor(problem: Problem, retryAfterS?: number) {
    super(`${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ""}`);
    this.problem = problem;
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
    this.retryAfterS = retryAfterS;
  }

  /** Last path segment of `type`, e.g. "idempotency-key-reused". */
  get slug(): string {
    return this.type.slice(this.type.lastIndexOf("/") + 1);
  }
}

/** Every endpoint failed before answering (network errors, timeouts). */
export class TesseraNetworkError extends Error {
  override name = "TesseraNetworkError";
  constructor(
    message: string,
    readonly causes: readonly unknown[],
  ) {
    super(message);
  }
}

/** The problem a non-2xx response carries (or one made up from its status when it has none). */
export async function problemOf(r: Response): Promise<TesseraProblemError> {
  const retry = Number(r.headers.get("retry-after"));
  const retryAfterS = Number.isFinite(retry) && retry >= 0 ? retry : undefined;
  const text = await r.text().catch(() => "");
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const p = body as Partial<Problem> | undefined;
  if (p && typeof p === "object" && typeof p.type === "string" && typeof p.title === "string") {
    return new TesseraProblemError({ ...p, status: r.status } as Problem, retryAfterS);
  }
  return new TesseraProblemError(
    {
      type: "about:blank",
      title: r.statusText || `HTTP ${r.status}`,
      status: r.status,
      ...(text ? { detail: text.slice(0, 500) } : {}),
    },
    retryAfterS,
  );
}
