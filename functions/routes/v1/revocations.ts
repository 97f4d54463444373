import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { Id } from "../../../shared/domain/ids.ts";
import { REVOCATION_SEQ_MAX } from "../../../shared/tickets/revocation.ts";
import { RevocationFeed } from "../../../shared/tickets/revocation-feed.ts";
import { ProblemError } from "../../problem.ts";
import { getEvent } from "../../services/catalog.ts";
import type { Services } from "../../services/index.ts";
import { readFeed } from "../../services/revocation-feed.ts";
import { json, problems, validationHook } from "../api.ts";
import { CATALOG_TAG } from "./catalog.ts";

/**
 * The public revocation feed of an event, on every provider: no credentials, so any door or
 * verifier can fetch it, from whichever provider answers, and merge what several return (every
 * entry is co-signed on its own). It lists ticket ids and reasons only.
 */
export function revocationRoutes(s: Services) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/events/{eventId}/revocations",
      operationId: "getRevocations",
      tags: [CATALOG_TAG],
      summary: "Revoked tickets of an event (co-signed feed)",
      // No credentials: an empty security requirement says so explicitly.
      security: [{}],
      description:
        "Format `tessera.revocations` v1 (docs/tickets.md, Revocation): the revocations numbered " +
        "after `since`, each co-signed by two providers. Call again with `since=next` until " +
        "`complete`. Check it offline with `tessera ticket verify --revocations`.",
      request: {
        params: z.object({ eventId: Id.openapi({ param: { name: "eventId", in: "path" } }) }),
        query: z.object({
          since: z.coerce
            .number()
            .int()
            .min(0)
            .max(REVOCATION_SEQ_MAX)
            .default(0)
            .openapi({ description: "Only revocations numbered after this one.", format: "int32" }),
        }),
      },
      responses: {
        200: json(RevocationFeed.openapi("RevocationFeed"), "The feed after `since`"),
        ...problems(400, 404, 503),
      },
    }),
    async (c) => {
      const { eventId } = c.req.valid("param");
      const event = await getEvent(s, eventId, "local");
      if (event === null) {
        throw new ProblemError(404, "not-found", "Event not found", `no event ${eventId}`);
      }
      return c.json(await readFeed(s, eventId, c.req.valid("query").since), 200);
    },
  );
  return app;
}
