/**
 * What every /v1 operation shares, added to the generated OpenAPI document in one place so no
 * route can forget it: the rate limit (functions/middleware/rate-limit.ts answers 429 and sends
 * the IETF RateLimit headers on every /v1 response), CORS (every /v1 response allows any origin),
 * the 413 of a body over its limit, and the 400 of a parameter or body that fails its schema.
 * Each route still declares its own specific answers; this only fills in the common ones.
 */

const PROBLEM_REF = { $ref: "#/components/schemas/Problem" };

/** Draft-ietf-httpapi-ratelimit-headers values, e.g. `600;w=60` and `limit=600, remaining=9, reset=3`. */
export const COMMON_HEADERS = {
  RateLimit: {
    description:
      "Quota left for this client on the answering instance (IETF RateLimit header fields draft), " +
      "e.g. `limit=600, remaining=599, reset=0`.",
    schema: { type: "string", maxLength: 200 },
  },
  "RateLimit-Policy": {
    description:
      "The quota policy (IETF RateLimit header fields draft), e.g. `600;w=60`: 600 requests per " +
      "60 s per client (bearer credential, else address) and instance.",
    schema: { type: "string", maxLength: 200 },
  },
  "Access-Control-Allow-Origin": {
    description: "Always `*`: the API is public and takes no cookies.",
    schema: { type: "string", enum: ["*"] },
  },
} as const;

const RETRY_AFTER = {
  description: "Seconds until the quota allows another request.",
  schema: { type: "integer", format: "int32", minimum: 1, maximum: 3600 },
} as const;

const headerRefs = (names: readonly string[]) =>
  Object.fromEntries(names.map((n) => [n, { $ref: `#/components/headers/${n}` }]));

const COMMON_RESPONSES = {
  TooManyRequests: {
    description: "Rate limited: wait `Retry-After` seconds (or retry on another provider).",
    headers: headerRefs([...Object.keys(COMMON_HEADERS), "Retry-After"]),
    content: { "application/problem+json": { schema: PROBLEM_REF } },
  },
  PayloadTooLarge: {
    description: "Request too large",
    headers: headerRefs(Object.keys(COMMON_HEADERS)),
    content: { "application/problem+json": { schema: PROBLEM_REF } },
  },
  ValidationFailed: {
    description: "Invalid request (every validation problem listed)",
    headers: headerRefs(Object.keys(COMMON_HEADERS)),
    content: { "application/problem+json": { schema: PROBLEM_REF } },
  },
} as const;

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

// biome-ignore lint/suspicious/noExplicitAny: the generated document is plain JSON here
type Json = any;

/** Adds the shared headers and responses to every /v1 operation of `doc` (mutates and returns it). */
export function withCommonContract(doc: Json): Json {
  doc.components ??= {};
  doc.components.headers = {
    ...doc.components.headers,
    ...COMMON_HEADERS,
    "Retry-After": RETRY_AFTER,
  };
  doc.components.responses = { ...doc.components.responses, ...COMMON_RESPONSES };
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    if (!path.startsWith("/v1/")) continue;
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      op.responses ??= {};
      const takesInput = (op.parameters?.length ?? 0) > 0 || op.requestBody !== undefined;
      if (takesInput && !op.responses["400"] && !op.responses["422"]) {
        op.responses["400"] = { $ref: "#/components/responses/ValidationFailed" };
      }
      if (op.requestBody && !op.responses["413"]) {
        op.responses["413"] = { $ref: "#/components/responses/PayloadTooLarge" };
      }
      op.responses["429"] = { $ref: "#/components/responses/TooManyRequests" };
      for (const [status, res] of Object.entries<Json>(op.responses)) {
        if (res.$ref || !/^[2-4]/.test(status)) continue;
        res.headers = { ...headerRefs(Object.keys(COMMON_HEADERS)), ...res.headers };
      }
    }
  }
  return doc;
}
