import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { int32 } from "../../../shared/domain/bounds.ts";
import { BUYER_ID_MAX_LENGTH, Instant } from "../../../shared/domain/ids.ts";
import { MAX_EXPORT_TICKETS } from "../../../shared/tickets/export.ts";
import { ClusterId, MAX_TRUSTED_CLUSTERS } from "../../../shared/tickets/trust.ts";
import { buyerAuth } from "../../auth/buyer.ts";
import { requireScope, theaterAuth } from "../../auth/theater.ts";
import type { AuthVariables } from "../../auth/variables.ts";
import { limitBody } from "../../middleware/body-limit.ts";
import { importBuyerTickets } from "../../services/buyer-import.ts";
import { IMPORT_BYTES_MAX, importBackup } from "../../services/import.ts";
import type { Services } from "../../services/index.ts";
import { IdempotencyHeaders, problems, REPLAYED_HEADER, validationHook } from "../api.ts";

/**
 * Fork import (docs/fork.md): a theater's backup from another cluster, and a buyer's ticket
 * export. Both verify every signature against the keys they carry, refuse with a full report (422)
 * when anything does not verify, and write under the ids the files carry, so a repeat changes
 * nothing.
 */

/** An import writes venues, events and orders: the scopes a backup needs to be made. */
const IMPORT_SCOPES = ["venues", "events", "orders"];
/** A buyer's export of at most MAX_EXPORT_TICKETS tickets (~2 KB each) fits in this. */
export const TICKET_IMPORT_BYTES_MAX = 1024 * 1024;

const AnyObject = z.object({}).catchall(z.unknown());

/** Every imported record takes bytes of the (bounded) backup: no count can exceed its size. */
const count = () => int32(0, IMPORT_BYTES_MAX);
const Counts = z.object({ created: count(), unchanged: count() });
const ImportSummarySchema = z
  .object({
    importId: z.string().max(128),
    theaterId: z.string().max(128),
    fromCluster: ClusterId,
    trusted: z.array(ClusterId).max(MAX_TRUSTED_CLUSTERS).meta({
      description: "Former clusters whose tickets of this theater are now honoured here.",
    }),
    counts: z.object({
      trust: Counts,
      plans: Counts,
      venues: Counts,
      seats: Counts,
      holds: Counts,
      orders: Counts,
      tickets: Counts,
      checkIns: Counts.meta({ description: "Seats admitted at the door before the fork." }),
      events: Counts,
    }),
    heldSeatsReleased: count(),
    buyerLinksWithheld: count().meta({
      description:
        "Orders imported for the theater only, not linked to a buyer's account: their tickets " +
        "are not signed by keys this cluster's operators trust (TESSERA_TRUSTED_CLUSTERS).",
    }),
    completedAt: Instant,
  })
  .openapi("BackupImportSummary");

const BuyerImportSchema = z
  .object({
    holder: z.string().max(BUYER_ID_MAX_LENGTH),
    fromCluster: ClusterId,
    linked: int32(0, MAX_EXPORT_TICKETS),
    unchanged: int32(0, MAX_EXPORT_TICKETS),
    refused: int32(0, MAX_EXPORT_TICKETS),
    tickets: z
      .array(
        z.object({
          tid: z.string().max(64),
          status: z.enum(["linked", "unchanged", "refused"]),
          reasons: z.array(z.string().max(1000)).max(32).optional(),
        }),
      )
      .max(MAX_EXPORT_TICKETS),
  })
  .openapi("TicketImportResult");

/** The buyer import's answer cut to the documented bounds (refusal reasons quote verifier text). */
function boundedImport<
  R extends { tickets: { tid: string; status: string; reasons?: string[] | undefined }[] },
>(r: R): R {
  return {
    ...r,
    tickets: r.tickets.map((t) => ({
      ...t,
      tid: t.tid.slice(0, 64),
      ...(t.reasons ? { reasons: t.reasons.slice(0, 32).map((x) => x.slice(0, 1000)) } : {}),
    })),
  };
}

export function importRoutes(s: Services) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });

  const theaterImport = createRoute({
    method: "post",
    path: "/v1/manage/import",
    operationId: "importTheaterBackup",
    tags: ["Management"],
    summary: "Import a theater backup from another cluster (fork)",
    description:
      "Verifies the backup (schema, per-section checksums, every ticket's quorum signatures " +
      "against the old cluster's keys it carries) and re-creates plans, venues, sold seats, " +
      "orders, tickets and events under their original ids. The old cluster's keys become " +
      "trusted for this theater's tickets. 422 with a report when anything does not verify; 409 " +
      "when this cluster already holds different records under the same ids. Importing the same " +
      `backup again changes nothing. At most ${IMPORT_BYTES_MAX} bytes.`,
    security: [{ theaterToken: [] }],
    // The body is read only once the caller is admitted.
    middleware: [
      theaterAuth(s.theaterAuth),
      requireScope(...IMPORT_SCOPES),
      limitBody(IMPORT_BYTES_MAX),
    ] as const,
    request: {
      headers: IdempotencyHeaders,
      body: {
        required: true,
        content: {
          "application/json": {
            schema: AnyObject.openapi({
              description:
                "A tessera.backup file (docs/formats/backup.md), as GET /v1/manage/backup gives it.",
            }),
          },
        },
      },
    },
    responses: {
      200: {
        description: "Imported (or already imported: every count `unchanged`)",
        content: { "application/json": { schema: ImportSummarySchema } },
      },
      ...problems(400, 401, 403, 409, 413, 422, 503),
    },
  });

  app.openapi(theaterImport, async (c) => {
    const theater = c.get("theater");
    if (!theater) throw new Error("route without theaterAuth");
    const key = c.req.valid("header")["idempotency-key"];
    const { summary, replayed } = await importBackup(s, theater.id, key, c.req.valid("json"));
    if (replayed) c.header(REPLAYED_HEADER, "true");
    return c.json(summary, 200);
  });

  const buyerImport = createRoute({
    method: "post",
    path: "/v1/me/tickets/import",
    operationId: "importMyTickets",
    tags: ["Buying"],
    summary: "Bring your tickets from another cluster",
    description:
      "Takes a ticket export (`GET /v1/me/tickets/export` of the old cluster, format " +
      "tessera.tickets) and links each ticket to you, if it verifies against this cluster's keys " +
      "or those of a cluster its theater imported from, is yours, and its seat is sold to its " +
      "order here. Tickets that fail are listed with reasons; a file that does not verify is " +
      "refused (422).",
    security: [{ buyerBearer: [] }],
    middleware: [buyerAuth(s.buyerVerifier), limitBody(TICKET_IMPORT_BYTES_MAX)] as const,
    request: {
      headers: IdempotencyHeaders,
      body: {
        required: true,
        content: {
          "application/json": {
            schema: AnyObject.openapi({ description: "A tessera.tickets export." }),
          },
        },
      },
    },
    responses: {
      200: {
        description: "Per ticket: linked, already linked, or refused (with reasons)",
        content: { "application/json": { schema: BuyerImportSchema } },
      },
      ...problems(400, 401, 403, 413, 422, 503),
    },
  });

  app.openapi(buyerImport, async (c) => {
    const buyer = c.get("buyer");
    if (!buyer) throw new Error("route without buyerAuth");
    const key = c.req.valid("header")["idempotency-key"];
    const { result, replayed } = await importBuyerTickets(s, buyer.sub, key, c.req.valid("json"));
    if (replayed) c.header(REPLAYED_HEADER, "true");
    return c.json(boundedImport(result), 200);
  });

  return app;
}
