import { createRoute, z } from "@hono/zod-openapi";
import { PROVIDERS, type ProviderId, type PublicJwk } from "../../../../shared/config.ts";
import { Id } from "../../../../shared/domain/ids.ts";
import { ticketKey } from "../../../../shared/domain/keys.ts";
import { BATCH_KEYS_MAX, SCAN_LIMIT_MAX } from "../../../../shared/storage/ports.ts";
import { DOOR_SIGNATURES, toCompact } from "../../../../shared/tickets/compact.ts";
import {
  buildExport,
  MAX_EXPORT_TICKETS,
  signExport,
  TicketExport,
} from "../../../../shared/tickets/export.ts";
import { ticketQrSvg } from "../../../../shared/tickets/qr.ts";
import type { Ticket } from "../../../../shared/tickets/sign.ts";
import { ProblemError } from "../../../problem.ts";
import type { Services } from "../../../services/index.ts";
import { listPage } from "../../../services/paging.ts";
import type { TicketRecord } from "../../../services/tickets.ts";
import { formerKeysOf } from "../../../services/trust.ts";
import { ContentDispositionHeader, json, PageQuery, pageOf, problems } from "../../api.ts";
import { BUYER_TAG, type BuyerApp, buyerGuard, me, REQUIRED_BUYER_SECURITY } from "./common.ts";
import { TicketView, ticketView } from "./views.ts";

const TicketParams = z.object({
  ticketId: Id.openapi({ param: { name: "ticketId", in: "path" } }),
});

type IndexEntry = { ticketId: string };
const buyerTicketsPrefix = (seg: string) => `buyer/${seg}/ticket/`;

/** Ticket records by id, by quorum, in batches the store accepts. */
async function readTickets(s: Services, ids: readonly string[]) {
  const out: { id: string; record: TicketRecord }[] = [];
  for (let i = 0; i < ids.length; i += BATCH_KEYS_MAX) {
    const batch = ids.slice(i, i + BATCH_KEYS_MAX);
    const recs = await s.store.getMany<TicketRecord>(batch.map(ticketKey));
    batch.forEach((id, j) => {
      const record = recs[j];
      if (record) out.push({ id, record });
    });
  }
  return out;
}

/** The cluster's public keys as an export carries them. */
function clusterKeys(s: Services) {
  const providers = Object.fromEntries(
    PROVIDERS.map((p) => [p, [s.deps.cluster.providers[p].publicJwk]]),
  ) as Record<ProviderId, PublicJwk[]>;
  return { clusterId: s.deps.cluster.clusterId, providers };
}

export function ticketRoutes(app: BuyerApp, s: Services) {
  listMyTicketsRoute(app, s);
  exportMyTicketsRoute(app, s);
  getTicketQrCodeRoute(app, s);
}

function listMyTicketsRoute(app: BuyerApp, s: Services) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/me/tickets",
      operationId: "listMyTickets",
      tags: [BUYER_TAG],
      summary: "Your tickets",
      security: REQUIRED_BUYER_SECURITY,
      middleware: [buyerGuard(s)],
      request: { query: PageQuery },
      responses: {
        200: json(pageOf(TicketView, "TicketPage"), "One page of tickets"),
        ...problems(400, 401, 503),
      },
    }),
    async (c) => {
      const { seg } = await me(c, s);
      const page = await listPage<IndexEntry, string>(
        s,
        buyerTicketsPrefix(seg),
        c.req.valid("query"),
        (_k, v) => v.ticketId,
        "majority",
      );
      const items = (await readTickets(s, page.items)).map((t) => ticketView(t.id, t.record));
      return c.json(
        page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor },
        200,
      );
    },
  );
}

function exportMyTicketsRoute(app: BuyerApp, s: Services) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/me/tickets/export",
      operationId: "exportMyTickets",
      tags: [BUYER_TAG],
      summary: "All your tickets as one signed, self-describing file",
      description:
        "Format `tessera.tickets` v1 (docs/tickets.md): every ticket with its provider signatures, " +
        "the co-signed revocations of those refunded, the cluster's public keys, and this " +
        "provider's signature over the whole file. Verify it " +
        "offline with `tessera ticket verify`.",
      security: REQUIRED_BUYER_SECURITY,
      middleware: [buyerGuard(s)],
      responses: {
        200: {
          ...json(z.object({}).catchall(z.unknown()).openapi("TicketExport"), "The export"),
          headers: z.object({ "content-disposition": ContentDispositionHeader }),
        },
        ...problems(401, 413, 503),
      },
    }),
    async (c) => {
      const { sub, seg } = await me(c, s);
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listPage<IndexEntry, string>(
          s,
          buyerTicketsPrefix(seg),
          { limit: SCAN_LIMIT_MAX, ...(cursor ? { cursor } : {}) },
          (_k, v) => v.ticketId,
          "majority",
        );
        ids.push(...page.items);
        cursor = page.nextCursor;
        if (ids.length > MAX_EXPORT_TICKETS) {
          throw new ProblemError(413, "export-too-large", "Too many tickets for one export");
        }
      } while (cursor !== undefined);
      const records = await readTickets(s, ids);
      const tickets: Ticket[] = records.map((t) => t.record.ticket);
      // A refunded order's tickets stay listed, with the co-signed proof that they admit no one.
      const revocations = records.flatMap((t) =>
        t.record.revocation ? [t.record.revocation] : [],
      );
      const formerKeys = await formerKeysOf(s);
      const file = await signExport(
        buildExport({
          clusterId: s.deps.cluster.clusterId,
          exportedAt: new Date(s.now()).toISOString(),
          holder: sub,
          keys: clusterKeys(s),
          // Tickets bought before a fork verify only with the former cluster's keys.
          ...(formerKeys.length > 0 ? { formerKeys } : {}),
          tickets,
          ...(revocations.length > 0 ? { revocations } : {}),
        }),
        s.deps.signingKey,
        s.deps.provider,
      );
      c.header("content-disposition", 'attachment; filename="tessera-tickets.json"');
      return c.json(TicketExport.parse(file), 200);
    },
  );
}

function getTicketQrCodeRoute(app: BuyerApp, s: Services) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/tickets/{ticketId}/qr.svg",
      operationId: "getTicketQrCode",
      tags: [BUYER_TAG],
      summary: "QR code of one of your tickets (compact door form)",
      security: REQUIRED_BUYER_SECURITY,
      middleware: [buyerGuard(s)],
      request: { params: TicketParams },
      responses: {
        200: {
          description: "SVG image",
          // A version-40 QR code (177 × 177 modules, the largest) draws to well under 1 MiB.
          content: { "image/svg+xml": { schema: z.string().max(1_048_576) } },
        },
        ...problems(401, 404, 503),
      },
    }),
    async (c) => {
      const { seg } = await me(c, s);
      const { ticketId } = c.req.valid("param");
      const rec = await s.store.get<TicketRecord>(ticketKey(ticketId));
      if (rec === null || rec.holderSeg !== seg) {
        throw new ProblemError(
          404,
          "not-found",
          "Not Found",
          `ticket ${ticketId} does not exist or is not yours`,
        );
      }
      const svg = await ticketQrSvg(toCompact(rec.ticket, { maxSignatures: DOOR_SIGNATURES }));
      return c.body(svg, 200, {
        "content-type": "image/svg+xml",
        "cache-control": "private, max-age=3600",
      });
    },
  );
}
