import { OpenAPIHono } from "@hono/zod-openapi";
import type { ErrorHandler } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { ProviderId } from "../shared/config.ts";
import type { AppSettings } from "../shared/env.ts";
import { AuditedAcceptor } from "./audit/acceptor.ts";
import type { AuditLog } from "./audit/log.ts";
import { auditRoutes } from "./audit/routes.ts";
import { withAudit } from "./audit/wire.ts";
import { type AppDeps, type Deps, withDefaults } from "./deps.ts";
import { membershipOf, withMembership } from "./membership.ts";
import { bodyLimits, type RouteBodyLimit } from "./middleware/body-limit.ts";
import { RATE_LIMITS, RateLimiter, rateLimit } from "./middleware/rate-limit.ts";
import { acceptorRoutes, PEER_BODY_BYTES_MAX } from "./peers/acceptor-endpoint.ts";
import {
  REVOCATION_SIGN_BODY_BYTES_MAX,
  REVOCATION_SIGN_PATH,
} from "./peers/revocation-sign-client.ts";
import { TICKET_SIGN_PATH } from "./peers/ticket-sign-client.ts";
import { ACCEPTOR_PATH } from "./peers/wire.ts";
import { WitnessingAcceptor } from "./peers/witnessing-acceptor.ts";
import { ProblemError, problemResponse, sendProblem } from "./problem.ts";
import { antiEntropyRoutes } from "./routes/anti-entropy.ts";
import { validationHook } from "./routes/api.ts";
import { apiDocument, docsRoutes } from "./routes/docs.ts";
import { healthRoutes } from "./routes/health.ts";
import { idpRoutes } from "./routes/idp.ts";
import { revocationSignRoutes } from "./routes/revocation-sign.ts";
import { SIGN_BODY_BYTES_MAX, ticketSignRoutes } from "./routes/ticket-sign.ts";
import { buyerRoutes } from "./routes/v1/buyer.ts";
import { catalogRoutes } from "./routes/v1/catalog.ts";
import { doorRoutes } from "./routes/v1/door.ts";
import { importRoutes, TICKET_IMPORT_BYTES_MAX } from "./routes/v1/import.ts";
import { PLAN_BODY_BYTES_MAX } from "./routes/v1/manage/plans.ts";
import { manageRoutes } from "./routes/v1/manage.ts";
import { revocationRoutes } from "./routes/v1/revocations.ts";
import { webRoutes } from "./routes/web.ts";
import { IMPORT_BYTES_MAX } from "./services/import.ts";
import { createServices, type Services } from "./services/index.ts";
import { attestAccept } from "./services/tickets.ts";

/**
 * Routes whose bodies may exceed the default (BODY_BYTES_DEFAULT). An event carries up to 1,000
 * allowed buyers and 1,000 price categories. Uploads and peer calls read their bodies themselves,
 * after checking who sent them.
 */
const EVENT_BODY_BYTES_MAX = 1024 * 1024;
const BODY_LIMITS: readonly RouteBodyLimit[] = [
  { method: "POST", path: "/v1/manage/events", maxBytes: EVENT_BODY_BYTES_MAX },
  { method: "PATCH", path: "/v1/manage/events/", maxBytes: EVENT_BODY_BYTES_MAX },
  { method: "POST", path: "/v1/manage/plans", maxBytes: PLAN_BODY_BYTES_MAX, readsItself: true },
  { method: "POST", path: "/v1/manage/import", maxBytes: IMPORT_BYTES_MAX, readsItself: true },
  {
    method: "POST",
    path: "/v1/me/tickets/import",
    maxBytes: TICKET_IMPORT_BYTES_MAX,
    readsItself: true,
  },
  { method: "POST", path: `${ACCEPTOR_PATH}/`, maxBytes: PEER_BODY_BYTES_MAX, readsItself: true },
  { method: "POST", path: TICKET_SIGN_PATH, maxBytes: SIGN_BODY_BYTES_MAX, readsItself: true },
  {
    method: "POST",
    path: REVOCATION_SIGN_PATH,
    maxBytes: REVOCATION_SIGN_BODY_BYTES_MAX,
    readsItself: true,
  },
];

/** Builds the one handler set every provider serves. Only this file registers routes. */
export function createApp(hostDeps: AppDeps) {
  // Every accept of this provider's store, local or from a peer, is audit-logged (functions/audit),
  // and every reply says whether the store votes (functions/membership.ts).
  // Innermost, this provider's store signs for the sales it accepts, in the accept reply
  // (functions/peers/witnessing-acceptor.ts), once the services it reads through exist.
  // A host that hands over a store already decorated keeps it as it is (no witness: signatures
  // are then asked for after the commit).
  const base = withDefaults(hostDeps);
  const decorated = base.acceptor instanceof AuditedAcceptor || membershipOf(base) !== undefined;
  const witnessing =
    decorated || hostDeps.witnessAccepts === false
      ? undefined
      : new WitnessingAcceptor(base.acceptor);
  const inner = witnessing ? { ...base, acceptor: witnessing } : base;
  const { deps, audit } = withAudit(withMembership(inner));
  const services = createServices(deps);
  witnessing?.bind((e) => attestAccept(services, e));
  const now = deps.now;
  // Schema failures at the edge become one problem+json listing every issue.
  const app = new OpenAPIHono({ defaultHook: validationHook });

  useMiddleware(app, deps, now);
  routePeersAndOperations(app, deps, services, audit);
  routeDevIdp(app, deps.settings, now);
  routePublicApi(app, services, audit);
  // Last: documents every route registered above.
  app.route(
    "/",
    docsRoutes(() => apiDocument(app, deps.cluster)),
  );

  app.notFound((c) =>
    sendProblem(c, new ProblemError(404, "not-found", "Not Found", `no route for ${c.req.path}`)),
  );
  app.onError(errorHandler(deps.provider));
  return app;
}
export type App = ReturnType<typeof createApp>;

type BaseApp = OpenAPIHono;

/** Request ids, CORS on the public API, rate limits and body limits, in that order. */
function useMiddleware(app: BaseApp, deps: Deps, now: () => number): void {
  app.use(requestId({ headerName: "x-request-id" }));
  app.use(
    "/v1/*",
    cors({
      origin: "*",
      exposeHeaders: [
        "x-request-id",
        "ratelimit",
        "ratelimit-policy",
        "retry-after",
        "etag",
        "location",
      ],
    }),
  );
  // Every route, internal ones included: a peer or cron call proves who it is like a buyer does.
  app.use(
    rateLimit({
      limiter: new RateLimiter(now),
      limits: { ...RATE_LIMITS, ...deps.rateLimits },
      clientAddress: deps.clientAddress ?? (() => undefined),
    }),
  );
  app.use(bodyLimits(BODY_LIMITS));
}

/** Health, the peer endpoints and the scheduled anti-entropy call. */
function routePeersAndOperations(
  app: BaseApp,
  deps: Deps,
  services: Services,
  audit: AuditLog,
): void {
  app.route("/", healthRoutes(deps));
  app.route("/", acceptorRoutes(deps));
  app.route("/", ticketSignRoutes(services));
  app.route("/", revocationSignRoutes(services));
  // The scheduled call also seals this instance's pending audit entries.
  app.use("/internal/anti-entropy", async (c, next) => {
    await next();
    if (c.res.status === 200) await audit.flush();
  });
  app.route("/", antiEntropyRoutes(services));
}

/** The development identity provider, only where the deployment configures its key. */
function routeDevIdp(app: BaseApp, s: AppSettings, now: () => number): void {
  if (s.TESSERA_DEV_IDP_KEY) {
    app.route(
      "/",
      idpRoutes({
        issuer: s.TESSERA_OIDC_ISSUER,
        key: s.TESSERA_DEV_IDP_KEY,
        users: (s.TESSERA_DEV_IDP_USERS ?? "alice,bob").split(","),
        now,
        audience: s.TESSERA_OIDC_AUDIENCE,
      }),
    );
  }
}

/** The /v1 API and the web front. */
function routePublicApi(app: BaseApp, services: Services, audit: AuditLog): void {
  app.route("/", buyerRoutes(services));
  app.route("/", manageRoutes(services));
  app.route("/", catalogRoutes(services));
  app.route("/", revocationRoutes(services));
  app.route("/", auditRoutes(services, audit));
  app.route("/", importRoutes(services));
  app.route("/", doorRoutes(services));
  app.route("/", webRoutes(services));
}

/** Turns what a route threw into problem+json, and logs what the client cannot act on. */
function errorHandler(provider: ProviderId): ErrorHandler {
  return (err, c) => {
    const rid = c.get("requestId");
    if (err instanceof ProblemError) {
      if (err.diagnostic !== undefined) {
        console.error(`[${provider}] [${rid}] ${c.req.method} ${c.req.path}: ${err.diagnostic}`);
      }
      return sendProblem(c, err, err.problem.status >= 500 ? rid : undefined);
    }
    // Hono's own refusals (malformed JSON body, bad content type) carry their 4xx status.
    if (err instanceof HTTPException && err.status < 500) {
      return sendProblem(
        c,
        new ProblemError(
          err.status,
          err.status === 400 ? "invalid-body" : "bad-request",
          err.status === 400 ? "Malformed request body" : "Request refused",
          err.message,
        ),
      );
    }
    // A store or peer failure the route did not turn into a clear answer: say so as 503 (the
    // client may retry elsewhere) and log it, rather than leaking a stack as a bare 500.
    // Peer calls fail by the thousand while a store is down: one line each, the stack only for
    // public routes (where an unexpected error is worth the full trace).
    const internal = c.req.path.startsWith("/internal/");
    console.error(
      `[${provider}] [${rid}] ${c.req.method} ${c.req.path}:`,
      internal && err instanceof Error ? err.message : err,
    );
    return problemResponse(
      {
        type: "https://tessera.dev/problems/unavailable",
        title: "Service unavailable",
        status: 503,
        detail: "a store or peer failed while handling the request; retry",
        instance: c.req.path,
        requestId: rid,
      },
      { "retry-after": "1", "x-request-id": rid },
    );
  };
}
