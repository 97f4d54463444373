/**
 * Outcomes of domain checks are values, not exceptions: an API route turns `errors` into one
 * problem+json response listing every problem, so a client fixes them all in one round.
 */
export interface DomainIssue {
  /** JSON Pointer (RFC 6901) into the input, "" for the whole input. */
  readonly path: string;
  /** Stable machine-readable code, e.g. "duplicate_seat_id". */
  readonly code: string;
  /** Human-readable explanation. */
  readonly message: string;
}

export type DomainResult<K extends string, T> =
  | ({ readonly ok: true } & { readonly [P in K]: T })
  | { readonly ok: false; readonly errors: readonly DomainIssue[] };

/** JSON Pointer for a path such as ["sections", 0, "id"] (escaping '~' and '/' per RFC 6901). */
export function pointer(path: readonly PropertyKey[]): string {
  return path.map((p) => `/${String(p).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/** Zod issues as domain issues; `code` is "invalid_schema" with zod's own code in the message. */
export function fromZodIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string; code: string }[],
  prefix: readonly PropertyKey[] = [],
): DomainIssue[] {
  return issues.map((i) => ({
    path: pointer([...prefix, ...i.path]),
    code: "invalid_schema",
    message: i.message,
  }));
}
