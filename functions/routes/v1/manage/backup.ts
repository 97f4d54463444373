import { createRoute, z } from "@hono/zod-openapi";
import { PROVIDERS } from "../../../../shared/config.ts";
import { int64, SAFE_INT_MAX } from "../../../../shared/domain/bounds.ts";
import { Id, Instant } from "../../../../shared/domain/ids.ts";
import { BACKUP_FORMAT_VERSION } from "../../../../shared/formats/backup.ts";
import { ProblemError } from "../../../problem.ts";
import { newEntityId } from "../../../random.ts";
import {
  readBackupManifest,
  storeBackup,
  storedBackupParts,
  theaterBackup,
} from "../../../services/backup.ts";
import type { Services } from "../../../services/index.ts";
import { ContentDispositionHeader, json, LocationHeader, problems } from "../../api.ts";
import { MANAGE_TAG, type ManageApp, THEATER_SECURITY, theaterGuard, theaterOf } from "./common.ts";

/** Scopes a backup needs: it carries venues, events and orders (with their buyers). */
const BACKUP_SCOPES = ["venues", "events", "orders"];

const TheaterBackup = z
  .object({ format: z.literal("tessera.backup"), formatVersion: z.literal(BACKUP_FORMAT_VERSION) })
  .catchall(z.unknown())
  .openapi("TheaterBackup", {
    description:
      "The theatre backup file (docs/formats/backup.md, schema docs/formats/backup.schema.json): " +
      "venues, seating plans, events, seats, orders, tickets and the seats admitted at the door, " +
      "with per-section SHA-256 checksums.",
  });

const StoredBackup = z
  .object({
    id: Id,
    href: LocationHeader,
    createdAt: Instant,
    // No size limit on a backup beyond the blob store's: the exact-integer range is the bound.
    parts: int64(0, SAFE_INT_MAX),
    bytes: int64(0, SAFE_INT_MAX),
    provider: z.enum(PROVIDERS).meta({
      description: "The provider whose blob store holds it: download it from that provider.",
    }),
  })
  .openapi("StoredBackup");

const BackupQuery = z.object({
  delivery: z
    .enum(["stream", "store"])
    .default("stream")
    .openapi({
      description:
        "`stream` (default): the file in the response body. `store`: write it to this provider's " +
        "blob store in parts and answer 201 with a link, for theatres too large for one response.",
    }),
});

/** A stream of text chunks as response bytes; the generator is pulled as the client reads. */
function byteStream(first: IteratorResult<Uint8Array>, rest: AsyncIterator<Uint8Array>) {
  let head: IteratorResult<Uint8Array> | undefined = first;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      const r = head ?? (await rest.next());
      head = undefined;
      if (r.done) ctrl.close();
      else ctrl.enqueue(r.value);
    },
    async cancel() {
      await rest.return?.();
    },
  });
}

async function* encode(chunks: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  for await (const c of chunks) yield enc.encode(c);
}

/**
 * Pulls the first chunk before answering, so a failure at the start is still a proper problem
 * response; a failure later can only cut the stream short (the checksums reveal it).
 */
async function streamed(it: AsyncGenerator<Uint8Array>, headers: Record<string, string>) {
  const first = await it.next();
  return new Response(byteStream(first, it), { status: 200, headers });
}

export function backupRoutes(app: ManageApp, s: Services) {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/manage/backup",
      operationId: "downloadBackup",
      tags: [MANAGE_TAG],
      summary: "Download a backup of everything you own (streamed)",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, ...BACKUP_SCOPES),
      request: { query: BackupQuery },
      responses: {
        200: {
          ...json(TheaterBackup, "The backup file, streamed"),
          headers: z.object({ "content-disposition": ContentDispositionHeader }),
        },
        201: {
          ...json(StoredBackup, "Stored; download it from `href`"),
          headers: z.object({ location: LocationHeader }),
        },
        ...problems(400, 401, 403, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const theater = { id: t.id, name: t.name };
      const day = new Date(s.now()).toISOString().slice(0, 10);
      if (c.req.valid("query").delivery === "store") {
        const m = await storeBackup(s, theater, newEntityId("bk_"));
        const href = `/v1/manage/backups/${m.id}`;
        c.header("location", href);
        return c.json(
          {
            id: m.id,
            href,
            createdAt: m.createdAt,
            parts: m.parts,
            bytes: m.bytes,
            provider: m.provider,
          },
          201,
        );
      }
      return streamed(encode(theaterBackup(s, theater)), {
        "content-type": "application/json",
        "content-disposition": `attachment; filename="tessera-backup-${t.id}-${day}.json"`,
        "cache-control": "no-store",
      }) as never;
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/manage/backups/{backupId}",
      operationId: "getStoredBackup",
      tags: [MANAGE_TAG],
      summary: "Download a stored backup (from the provider that stored it)",
      security: THEATER_SECURITY,
      middleware: theaterGuard(s, ...BACKUP_SCOPES),
      request: {
        params: z.object({ backupId: Id.openapi({ param: { name: "backupId", in: "path" } }) }),
      },
      responses: {
        200: json(TheaterBackup, "The backup file"),
        ...problems(401, 403, 404, 503),
      },
    }),
    async (c) => {
      const t = theaterOf(c);
      const id = c.req.valid("param").backupId;
      const m = await readBackupManifest(s, t.id, id);
      if (m === null) {
        throw new ProblemError(404, "not-found", "Not Found", `no stored backup ${id} here`);
      }
      return streamed(storedBackupParts(s, m), {
        "content-type": "application/json",
        "content-length": String(m.bytes),
        "content-disposition": `attachment; filename="tessera-backup-${t.id}-${id}.json"`,
        "cache-control": "no-store",
      }) as never;
    },
  );
}
