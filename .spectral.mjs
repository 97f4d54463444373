import owasp from "@stoplight/spectral-owasp-ruleset";

/**
 * Spectral ruleset of `npm run lint:api` (scripts/lint-api.ts): the OWASP API Security Top 10
 * ruleset, loaded from node_modules as a JS ruleset so nothing is fetched (CI reaches only the npm
 * registry). Errors fail `npm test`; warnings are reported. Every rule turned off says why.
 */

/** URI-fragment JSON Pointer of a path item, as Spectral overrides name it (braces %-encoded). */
const at = (path) =>
  `**#/paths/${encodeURIComponent(path.replaceAll("~", "~0").replaceAll("/", "~1"))}`;

export default {
  extends: [owasp],
  rules: {
    // The API never answers 500: functions/app.ts turns every unexpected failure into a 503
    // problem with Retry-After (retry, maybe on another provider). Declaring a 500 would be false.
    "owasp:api8:2023-define-error-responses-500": "off",
  },
  overrides: [
    {
      // The audit log is public by design (anyone may fetch and verify it): no credentials are
      // read, so no request can be refused with 401.
      files: [
        at("/v1/audit/{provider}/segments"),
        at("/v1/audit/segments/{id}"),
        at("/v1/audit/keys"),
      ],
      rules: { "owasp:api8:2023-define-error-responses-401": "off" },
    },
    {
      // No parameters and no body: nothing a client sends can fail validation, so there is no
      // 400/422 to declare (generic 4xx answers such as 401 and 429 are declared).
      files: [at("/v1/audit/keys"), at("/v1/me/tickets/export")],
      rules: { "owasp:api8:2023-define-error-validation": "off" },
    },
  ],
};
