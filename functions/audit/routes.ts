import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { MAX_SEGMENT_ENTRIES } from "../../shared/audit/segment.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { int32, int64, SAFE_INT_MAX } from "../../shared/domain/bounds.ts";
import { ProblemError } from "../problem.ts";
import {
  listSegments,
  readSegment,
  SEGMENT_PAGE_DEFAULT,
  SEGMENT_PAGE_MAX,
} from "../services/audit.ts";
import type { Services } from "../services/index.ts";
import { currentClusterKeys } from "../services/trust.ts";
import { parseSegmentId } from "./layout.ts";
import { type AuditLog, BUFFER_ENTRIES_MAX, SEAL_ERROR_MAX, SEGMENT_ENTRIES } from "./log.ts";

/**
 * Public, read-only audit endpoints: anyone may fetch the sealed segments and the keys that check
 * them, and verify and cross-check them offline (`npx tessera audit fetch|verify|cross-check`).
 * A segment is immutable once written, so responses may be cached forever.
 */
const TAG = "Audit";
/** No credentials: an empty security requirement says so explicitly. */
const PUBLIC: Record<string, string[]>[] = [{}];
/** Segment ids: provider, stream and two 12-digit sequence numbers (see the example below). */
const SEGMENT_ID_MAX = 128;
/** Stream names: provider, start time and a random tag. */
const STREAM_MAX = 64;
const IMMUTABLE = "public, max-age=31536000, immutable";

const Provider = z.enum(PROVIDERS).openapi({ param: { name: "provider", in: "path" } });

const SegmentRefSchema = z
  .object({
    id: z
      .string()
      .max(SEGMENT_ID_MAX)
      .meta({ description: "Pass to GET /v1/audit/segments/{id}." }),
    provider: z.enum(PROVIDERS),
    stream: z
      .string()
      .max(STREAM_MAX)
      .meta({ description: "The instance chain this segment belongs to." }),
    fromSeq: int64(0, SAFE_INT_MAX),
    toSeq: int64(0, SAFE_INT_MAX),
  })
  .openapi("AuditSegmentRef");

const InstanceStats = z
  .object({
    stream: z.string().max(STREAM_MAX),
    seq: int64(0, SAFE_INT_MAX),
    sealedSeq: int64(0, SAFE_INT_MAX),
    buffered: int32(0, BUFFER_ENTRIES_MAX),
    dropped: int64(0, SAFE_INT_MAX),
    segmentsWritten: int64(0, SAFE_INT_MAX),
    sealFailures: int64(0, SAFE_INT_MAX),
    lastSealError: z.string().max(SEAL_ERROR_MAX).optional(),
  })
  .openapi("AuditInstanceStats");

const SegmentList = z
  .object({
    provider: z.enum(PROVIDERS),
    segmentEntries: int32(1, MAX_SEGMENT_ENTRIES).meta({
      description: "Entries per full segment.",
    }),
    segments: z.array(SegmentRefSchema).max(SEGMENT_PAGE_MAX),
    nextCursor: z.string().max(256).optional(),
    instance: InstanceStats.meta({
      description:
        "The answering instance's own chain: entries not yet sealed are not in any segment yet.",
    }),
  })
  .openapi("AuditSegmentList");

const Problem = {
  description: "Problem",
  content: { "application/problem+json": { schema: z.object({}).catchall(z.unknown()) } },
};

const listRoute = createRoute({
  method: "get",
  path: "/v1/audit/{provider}/segments",
  operationId: "listAuditSegments",
  tags: [TAG],
  security: PUBLIC,
  summary: "List a provider's sealed audit segments",
  description:
    "Public. Each provider lists its own segments; asking one provider for another's answers 307 " +
    "to that provider.",
  request: {
    params: z.object({ provider: Provider }),
    query: z.object({
      cursor: z.string().max(256).optional(),
      limit: z.coerce
        .number()
        .int()
        .min(1)
        .max(SEGMENT_PAGE_MAX)
        .default(SEGMENT_PAGE_DEFAULT)
        .openapi({ format: "int32" }),
    }),
  },
  responses: {
    200: { description: "Segments", content: { "application/json": { schema: SegmentList } } },
    307: { description: "Another provider's segments: follow Location" },
    400: Problem,
    503: Problem,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/v1/audit/segments/{id}",
  operationId: "getAuditSegment",
  tags: [TAG],
  security: PUBLIC,
  summary: "One sealed audit segment",
  description:
    "Public. The segment as sealed (docs/formats/audit-segment.schema.json); verify it with " +
    "`npx tessera audit verify`.",
  request: {
    params: z.object({
      id: z
        .string()
        .max(128)
        .openapi({
          param: { name: "id", in: "path" },
          example: "aws-1767225600000-0a1b2c3d4e5f.000000000001-000000000100",
        }),
    }),
  },
  responses: {
    200: {
      description: "A sealed segment",
      content: {
        "application/json": {
          schema: z.object({}).catchall(z.unknown()).openapi("SealedAuditSegment"),
        },
      },
    },
    307: { description: "Another provider's segment: follow Location" },
    404: Problem,
    503: Problem,
  },
});

const keysRoute = createRoute({
  method: "get",
  path: "/v1/audit/keys",
  operationId: "getAuditKeys",
  tags: [TAG],
  security: PUBLIC,
  summary: "The cluster's public keys (segments, tickets)",
  description:
    "Public. Pass the saved body as `--keys` to `npx tessera audit verify|cross-check` and " +
    "`npx tessera ticket verify`. Fetch it from more than one provider and compare: keys from " +
    "the server you audit prove consistency, not authenticity.",
  responses: {
    200: {
      description: "ClusterKeys of this cluster",
      content: { "application/json": { schema: z.object({}).catchall(z.unknown()) } },
    },
  },
});

function otherProvider(s: Services, provider: ProviderId, path: string): Response | undefined {
  if (provider === s.deps.provider) return undefined;
  const base = s.deps.cluster.providers[provider].url.replace(/\/+$/, "");
  return new Response(null, { status: 307, headers: { location: `${base}${path}` } });
}

export function auditRoutes(s: Services, audit: AuditLog) {
  const app = new OpenAPIHono();

  app.openapi(listRoute, async (c) => {
    const { provider } = c.req.valid("param");
    const { cursor, limit } = c.req.valid("query");
    const url = new URL(c.req.url);
    const away = otherProvider(s, provider, `${url.pathname}${url.search}`);
    if (away) return away as never;
    const page = await listSegments(s.deps, provider, { cursor, limit });
    return c.json(
      {
        provider,
        segmentEntries: SEGMENT_ENTRIES,
        segments: page.segments.map(({ blobKey: _k, ...ref }) => ref),
        ...(page.cursor !== undefined ? { nextCursor: page.cursor } : {}),
        instance: audit.stats(),
      },
      200,
    );
  });

  app.openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    const ref = parseSegmentId(id);
    if (!ref) throw new ProblemError(404, "not-found", "No such segment", `bad segment id ${id}`);
    const away = otherProvider(s, ref.provider, new URL(c.req.url).pathname);
    if (away) return away as never;
    const bytes = await readSegment(s.deps, ref);
    if (bytes === null) throw new ProblemError(404, "not-found", "No such segment", id);
    return new Response(bytes as BodyInit, {
      status: 200,
      headers: { "content-type": "application/json", "cache-control": IMMUTABLE },
    }) as never;
  });

  app.openapi(keysRoute, (c) => c.json(currentClusterKeys(s.deps.cluster), 200));

  return app;
}
