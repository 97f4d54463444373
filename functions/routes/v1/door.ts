import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { Id, Instant } from "../../../shared/domain/ids.ts";
import { KEY_LENGTH_MAX } from "../../../shared/storage/ports.ts";
import { MAX_TICKET_SIGNATURES } from "../../../shared/tickets/sign.ts";
import { requireScope, theaterAuth } from "../../auth/theater.ts";
import type { AuthVariables } from "../../auth/variables.ts";
import { doorCheck } from "../../services/door.ts";
import type { Services } from "../../services/index.ts";
import { problems, validationHook } from "../api.ts";

/**
 * Door check: a theater's scanner posts what it read (the General JSON ticket or the compact
 * `T1.` text of the QR code). The answer says whether to admit: the signatures verify against
 * this cluster's keys or a former cluster this theater forked from, the ticket is this theater's,
 * this cluster's quorum still shows the seat sold to the ticket's order (a refunded or resold
 * seat fails here although its signatures still verify offline), and the seat was not admitted
 * with another ticket.
 */

/** Door staff act for the theater's sales. */
const DOOR_SCOPES = ["orders"];
/** A compact ticket is ~500 characters; the JSON form ~1 KB. */
const TICKET_TEXT_MAX = 8192;

const DoorBody = z
  .object({
    ticket: z
      .union([z.string().max(TICKET_TEXT_MAX), z.object({}).catchall(z.unknown())])
      .meta({ description: "General JSON ticket, or the compact `T1.` text from the QR code." }),
    checkIn: z
      .boolean()
      .default(false)
      .meta({
        description:
          "Admit the seat if the ticket is valid: one entry per seat of an event, whatever the " +
          "ticket id; a second check-in, or another ticket for the seat, is refused.",
      }),
  })
  .strict()
  .openapi("DoorCheckInput");

/** Bounds of a verdict's reasons (one per failed check: a few, plus one per bad signature). */
const REASONS_MAX = 32;
const REASON_CODE_MAX = 64;
const REASON_DETAIL_MAX = 1000;
const Reason = z.object({
  code: z.string().max(REASON_CODE_MAX),
  detail: z.string().max(REASON_DETAIL_MAX),
});

/** The verdict cut to the documented bounds (a malformed ticket's detail can be a long message). */
function bounded<V extends { reasons: { code: string; detail: string }[] }>(v: V): V {
  return {
    ...v,
    reasons: v.reasons.slice(0, REASONS_MAX).map((r) => ({
      code: r.code.slice(0, REASON_CODE_MAX),
      detail: r.detail.slice(0, REASON_DETAIL_MAX),
    })),
  };
}
const DoorResult = z
  .object({
    valid: z
      .boolean()
      .meta({ description: "Admit: genuine, this theater's, seat sold here, not used." }),
    reasons: z.array(Reason).max(REASONS_MAX),
    claims: z.object({}).catchall(z.unknown()).optional(),
    cluster: z
      .enum(["current", "former"])
      .optional()
      .meta({ description: "Whose keys signed it: this cluster, or one the theater forked from." }),
    providers: z
      .array(z.string().max(16))
      .max(MAX_TICKET_SIGNATURES)
      .optional()
      .meta({ description: "Providers whose signatures verified." }),
    seatKey: z.string().max(KEY_LENGTH_MAX).optional(),
    checkedIn: z
      .object({ at: Instant, now: z.boolean(), ticketId: Id })
      .optional()
      .meta({
        description:
          "When the seat was admitted and with which ticket (another one than this: a duplicate, " +
          "refused as `seat-already-admitted`); `now` is true when this request checked it in.",
      }),
  })
  .openapi("DoorCheckResult");

export function doorRoutes(s: Services) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({ defaultHook: validationHook });
  const route = createRoute({
    method: "post",
    path: "/v1/door/verify",
    operationId: "verifyTicketAtDoor",
    tags: ["Door"],
    summary: "Check a ticket at the door (and optionally check it in)",
    security: [{ theaterToken: [] }],
    middleware: [theaterAuth(s.theaterAuth), requireScope(...DOOR_SCOPES)] as const,
    request: {
      body: { required: true, content: { "application/json": { schema: DoorBody } } },
    },
    responses: {
      200: {
        description: "The verdict (an invalid ticket is an answer, not an error)",
        content: { "application/json": { schema: DoorResult } },
      },
      ...problems(400, 401, 403, 503),
    },
  });
  app.openapi(route, async (c) => {
    const theater = c.get("theater");
    if (!theater) throw new Error("route without theaterAuth");
    const body = c.req.valid("json");
    return c.json(bounded(await doorCheck(s, theater.id, body.ticket, body.checkIn)), 200);
  });
  return app;
}
