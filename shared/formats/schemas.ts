import { z } from "zod";
import { AuditEntry } from "../audit/entry.ts";
import { SegmentHead } from "../audit/segment.ts";
import { TicketClaims } from "../tickets/claims.ts";
import { TicketExport } from "../tickets/export.ts";
import { RevocationClaims } from "../tickets/revocation.ts";
import { RevocationFeed } from "../tickets/revocation-feed.ts";
import { BackupFile } from "./backup.ts";

/**
 * JSON Schemas (draft 2020-12) of the open formats, generated from the zod schemas so that they
 * cannot drift: docs/formats/*.schema.json are these, checked by test/formats/schemas.test.ts and
 * written by `tessera backup schema --all --out-dir docs/formats` (then biome-formatted; the test
 * compares JSON values, not text). Rules a JSON Schema cannot say
 * (checksums, signatures, canonical payloads, ballot syntax) are in docs/tickets.md and
 * docs/audit-log.md and are checked by the verifiers.
 */
const SealedSegmentDoc = z.strictObject({
  segment: SegmentHead.extend({ entries: z.array(AuditEntry).min(1) }),
  signature: z.string().regex(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/),
});

/** No hosted copy exists: a URN names the schemas without promising a URL. */
const BASE = "urn:tessera:formats:";

function toSchema(name: string, title: string, schema: z.ZodType): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(schema, { target: "draft-2020-12", unrepresentable: "any" }) as Record<
      string,
      unknown
    >),
    $id: `${BASE}${name}`,
    title,
  };
}

export function formatSchemas(): Record<string, Record<string, unknown>> {
  return {
    "backup.schema.json": toSchema("backup.schema.json", "Tessera theater backup", BackupFile),
    "tickets.schema.json": toSchema(
      "tickets.schema.json",
      "Tessera buyer ticket export",
      TicketExport,
    ),
    "ticket-claims.schema.json": toSchema(
      "ticket-claims.schema.json",
      "Tessera ticket claims (the decoded JWS payload)",
      TicketClaims,
    ),
    "revocation-feed.schema.json": toSchema(
      "revocation-feed.schema.json",
      "Tessera revocation feed of one event",
      RevocationFeed,
    ),
    "revocation-claims.schema.json": toSchema(
      "revocation-claims.schema.json",
      "Tessera revocation claims (the decoded JWS payload of a feed entry)",
      RevocationClaims,
    ),
    "audit-segment.schema.json": toSchema(
      "audit-segment.schema.json",
      "Tessera sealed audit log segment",
      SealedSegmentDoc,
    ),
  };
}

/** Serialized exactly as committed: 2-space JSON and a final newline. */
export function schemaText(schema: Record<string, unknown>): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}
