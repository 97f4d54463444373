import { planKey, theaterIdemKey, theaterPlanKey, venueKey } from "../../shared/domain/keys.ts";
import type { DomainIssue } from "../../shared/domain/result.ts";
import type { SeatingPlan } from "../../shared/domain/seating-plan.ts";
import {
  type CreateVenueInput,
  type UpdateVenueInput,
  type Venue,
  Venue as VenueSchema,
} from "../../shared/domain/venue.ts";
import { importPretixPlan } from "../../shared/plans/pretix.ts";
import { validatePlan } from "../../shared/plans/validate.ts";
import { ProblemError } from "../problem.ts";
import { newEntityId } from "../random.ts";
import { getPlanMeta, readOne } from "./catalog.ts";
import {
  bodyHash,
  IN_FLIGHT_MS,
  idemConflict,
  idemInFlight,
  judgeClaim,
  type TheaterIdemRecord,
} from "./idempotency.ts";
import type { Services } from "./index.ts";
import { chunkPlan, PLAN_CHUNK_BYTES_MAX, type StoredPlanMeta } from "./plan-chunks.ts";
import { retryingChange } from "./store.ts";

/**
 * Plans and venues of a theatre. Every write goes through the quorum; a theatre only ever sees its
 * own records: another theatre's ids answer 404 exactly like ids that do not exist, so ids cannot
 * be probed (the policy of the whole management API, docs/api.md).
 */

/**
 * Chunks written per change while storing a plan: 16 × 60 KB ≈ 1 MB per peer call, far below the
 * peers' 4 MiB request limit (functions/peers/acceptor-endpoint.ts) and quick to retry.
 */
export const PLAN_WRITE_BATCH = 16;

export type PlanFormat = "tessera" | "pretix";

export const notFound = (what: string, id: string) =>
  new ProblemError(404, "not-found", "Not Found", `no ${what} ${id}`);

export const unprocessable = (slug: string, title: string, errors: readonly DomainIssue[]) =>
  new ProblemError(422, slug, title, errors[0]?.message, { errors });

/** Validates an upload in either format; the server assigns the plan's id (ids are global). */
export function parsePlan(format: PlanFormat, input: unknown, planId: string) {
  if (format === "pretix") return importPretixPlan(input, { id: planId });
  // A client-chosen id is ignored rather than refused: plan ids share one namespace across
  // theatres, so only the server can hand out one that is free.
  const body =
    typeof input === "object" && input !== null && !Array.isArray(input)
      ? { ...(input as Record<string, unknown>), id: undefined }
      : input;
  return validatePlan(body, { id: planId });
}

/**
 * Stores a plan: claim the idempotency key (pinning the plan id), write the seat chunks, then the
 * metadata. The metadata record is the commit point: a plan exists only once `plan/<pid>` does, so
 * a crash part-way leaves orphan chunks that the retry (same key → same id, same body → same
 * chunks) simply overwrites with identical values.
 */
export async function storePlan(
  s: Services,
  theaterId: string,
  key: string,
  body: { format: PlanFormat; plan: unknown },
): Promise<{ meta: StoredPlanMeta; replayed: boolean }> {
  // Validate before claiming the key, so a refused upload can be corrected under the same key.
  const probe = parsePlan(body.format, body.plan, "probe");
  if (!probe.ok) throw unprocessable("invalid-plan", "The seating plan is invalid", probe.errors);

  const hash = bodyHash("plan", body);
  const idem = theaterIdemKey(theaterId, key);
  const now = s.now();
  const fresh: TheaterIdemRecord = { op: "plan", hash, id: newEntityId("p_"), startedAtMs: now };
  const claimed = await retryingChange<TheaterIdemRecord>(s, [idem], ([rec]) => {
    const v = judgeClaim(rec ?? null, "plan", hash);
    if (v.kind === "new") return [fresh];
    return { abort: v };
  });
  let planId = fresh.id;
  if (!claimed.ok) {
    const v = claimed.reason as ReturnType<typeof judgeClaim>;
    if (v.kind !== "replay") throw idemConflict();
  }
  // Our own claim (a re-run of the claim change found its earlier effect) is no replay.
  if (!claimed.ok && (claimed.reason as { id?: string }).id !== fresh.id) {
    const v = claimed.reason as Extract<ReturnType<typeof judgeClaim>, { kind: "replay" }>;
    const existing = await getPlanMeta(s, v.id, "quorum");
    if (existing) return { meta: existing, replayed: true };
    if (now - v.startedAtMs < IN_FLIGHT_MS) throw idemInFlight();
    planId = v.id; // the first attempt died before its commit point: finish it
  }

  const plan: SeatingPlan = { ...probe.plan, id: planId };
  const { meta, chunks } = chunkPlan(plan, theaterId);
  if (JSON.stringify(meta).length > PLAN_CHUNK_BYTES_MAX) {
    throw new ProblemError(
      413,
      "plan-too-large",
      "The plan's metadata is too large",
      "too many sections, categories or general-admission areas for one plan record",
    );
  }
  for (let i = 0; i < chunks.length; i += PLAN_WRITE_BATCH) {
    const batch = chunks.slice(i, i + PLAN_WRITE_BATCH);
    await retryingChange(
      s,
      batch.map((c) => c.key),
      () => batch.map((c) => c.value),
    );
  }
  const done = await retryingChange<StoredPlanMeta>(
    s,
    [planKey(planId), theaterPlanKey(theaterId, planId)],
    ([cur]) => (cur ? { abort: cur } : [meta, meta]),
  );
  return done.ok
    ? { meta, replayed: false }
    : { meta: done.reason as StoredPlanMeta, replayed: true };
}

/** The theatre's own plan metadata, else 404. */
export async function ownPlanMeta(s: Services, theaterId: string, planId: string) {
  const meta = await getPlanMeta(s, planId, "local");
  if (meta === null || meta.theaterId !== theaterId) throw notFound("plan", planId);
  return meta;
}

/** 422 unless `planId` names a plan of this theatre (a reference inside a body, not the URL). */
export async function checkPlanRef(
  s: Services,
  theaterId: string,
  planId: string,
  path = "/planId",
) {
  const meta = await getPlanMeta(s, planId, "local");
  if (meta === null || meta.theaterId !== theaterId) {
    throw unprocessable("unknown-reference", "A referenced record does not exist", [
      { path, code: "unknown_plan", message: `you have no plan ${planId}` },
    ]);
  }
  return meta;
}

export async function checkVenueRef(
  s: Services,
  theaterId: string,
  venueId: string,
  path = "/venueId",
) {
  const venue = await readOne<Venue>(s, venueKey(theaterId, venueId), "local");
  if (venue === null) {
    throw unprocessable("unknown-reference", "A referenced record does not exist", [
      { path, code: "unknown_venue", message: `you have no venue ${venueId}` },
    ]);
  }
  return venue;
}

type Abort =
  | { kind: "conflict" }
  | { kind: "replay"; id: string; startedAtMs: number }
  | { kind: "not-found" }
  | { kind: "invalid"; errors: DomainIssue[] };

/** Creates a venue and its idempotency claim in one change. */
export async function createVenue(
  s: Services,
  theaterId: string,
  key: string,
  input: CreateVenueInput,
): Promise<{ venue: Venue; replayed: boolean }> {
  const hash = bodyHash("venue", input);
  const idem = theaterIdemKey(theaterId, key);
  // Replays must not fail on a plan check the first attempt passed, so look at the claim first.
  const prior = judgeClaim(await s.store.get<TheaterIdemRecord>(idem), "venue", hash);
  if (prior.kind === "conflict") throw idemConflict();
  if (prior.kind === "new") await checkPlanRef(s, theaterId, input.planId);
  const id = newEntityId("v_");
  const venue = VenueSchema.parse({ id, theaterId, ...input });
  const claim: TheaterIdemRecord = { op: "venue", hash, id, startedAtMs: s.now() };
  const r = await retryingChange<unknown>(s, [idem, venueKey(theaterId, id)], ([rec]) => {
    const v = judgeClaim((rec ?? null) as TheaterIdemRecord | null, "venue", hash);
    return v.kind === "new" ? [claim, venue] : { abort: v };
  });
  if (r.ok) return { venue, replayed: false };
  const why = r.reason as Abort;
  if (why.kind !== "replay") throw idemConflict();
  const stored = await s.store.get<Venue>(venueKey(theaterId, why.id));
  if (stored === null) throw notFound("venue", why.id);
  return { venue: stored, replayed: true };
}

export async function getVenue(s: Services, theaterId: string, venueId: string): Promise<Venue> {
  const v = await readOne<Venue>(s, venueKey(theaterId, venueId), "local");
  if (v === null) throw notFound("venue", venueId);
  return v;
}

/** Replaces the fields given; a new planId must name one of the theatre's plans. */
export async function updateVenue(
  s: Services,
  theaterId: string,
  venueId: string,
  patch: UpdateVenueInput,
): Promise<Venue> {
  if (patch.planId !== undefined) await checkPlanRef(s, theaterId, patch.planId);
  const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
  const r = await retryingChange<Venue>(s, [venueKey(theaterId, venueId)], ([cur]) => {
    if (!cur) return { abort: { kind: "not-found" } satisfies Abort };
    const next = VenueSchema.safeParse({ ...cur, ...defined, id: cur.id, theaterId });
    if (!next.success) {
      return {
        abort: {
          kind: "invalid",
          errors: next.error.issues.map((i) => ({
            path: `/${i.path.join("/")}`,
            code: "invalid_schema",
            message: i.message,
          })),
        } satisfies Abort,
      };
    }
    return [next.data];
  });
  if (r.ok) return r.values[0]!;
  const why = r.reason as Abort;
  if (why.kind === "invalid") throw unprocessable("invalid-venue", "Invalid venue", why.errors);
  throw notFound("venue", venueId);
}
