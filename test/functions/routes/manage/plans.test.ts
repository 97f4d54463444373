import { beforeAll, describe, expect, it } from "vitest";
import {
  PLAN_CHUNK_BYTES_MAX,
  PLAN_CHUNK_SEATS,
} from "../../../../functions/services/plan-chunks.ts";
import { planKey } from "../../../../shared/domain/keys.ts";
import type { SeatingPlan } from "../../../../shared/domain/seating-plan.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";
import { licensedTheater, manage, newKey, readJson, type TheaterCreds } from "./helpers.ts";

let mc: MemoryCluster;
let odeon: TheaterCreds;
let small: Record<string, unknown>;

beforeAll(async () => {
  mc = await startMemoryCluster();
  odeon = await licensedTheater(mc, "odeon");
  small = (await readJson("docs/examples/plan-small.json")) as Record<string, unknown>;
});

/** A plan with one long section: `rows` rows of `perRow` seats with long ids. */
function bigPlan(rows: number, perRow: number): Record<string, unknown> {
  return {
    name: "Arena",
    size: { width: 100_000, height: 100_000 },
    categories: [{ id: "c", name: "Standard", color: "#123456" }],
    sections: [
      {
        id: "ring",
        name: "Ring",
        rows: Array.from({ length: rows }, (_, r) => ({
          id: `r${r}`,
          label: `R${r}`,
          seats: Array.from({ length: perRow }, (_, n) => ({
            id: `ring-${r}-${n}-${"x".repeat(30)}`,
            label: String(n + 1),
            x: n,
            y: r,
            category: "c",
          })),
        })),
      },
    ],
  };
}

describe("POST /v1/manage/plans", () => {
  it("stores a Tessera plan and returns its metadata; GET gives the whole plan back", async () => {
    const r = await manage(mc, "cloudflare", odeon, "POST", "/v1/manage/plans", {
      key: newKey(),
      body: { format: "tessera", plan: small },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ theaterId: "odeon", name: "Small Hall" });
    expect(r.body.id).not.toBe("small-hall"); // the server assigns plan ids
    expect(r.headers.get("location")).toBe(`/v1/manage/plans/${r.body.id}`);
    const g = await manage(mc, "aws", odeon, "GET", `/v1/manage/plans/${r.body.id}`);
    expect(g.status).toBe(200);
    const { $schema: _s, id: _i, ...rest } = small;
    expect(g.body).toEqual({
      ...rest,
      id: r.body.id,
      generalAdmission: rest.generalAdmission ?? [],
    });
  });

  it("converts a pretix plan", async () => {
    const pretix = await readJson("docs/examples/plan-pretix.json");
    const r = await manage(mc, "vercel", odeon, "POST", "/v1/manage/plans", {
      key: newKey(),
      body: { format: "pretix", plan: pretix },
    });
    expect(r.status).toBe(201);
    expect(r.body.name).toBe("Kleiner Saal");
    expect(r.body.seatCount).toBeGreaterThan(0);
    expect(r.body.categories.map((c: { name: string }) => c.name)).toEqual(["Parkett", "Loge"]);
  });

  it("refuses an invalid plan with 422 listing every error, and stores nothing", async () => {
    const before = mc.acceptors.aws.records.size;
    const bad = structuredClone(small) as {
      categories: unknown[];
      sections: { rows: { seats: Record<string, unknown>[] }[] }[];
    };
    bad.categories.push({ id: "premium", name: "Twice", color: "#fff" });
    const seats = bad.sections[0]!.rows[0]!.seats;
    seats[1]!.id = seats[0]!.id;
    seats[2]!.category = "nope";
    delete seats[3]!.category;
    const r = await manage(mc, "cloudflare", odeon, "POST", "/v1/manage/plans", {
      key: newKey(),
      body: { format: "tessera", plan: bad },
    });
    expect(r.status).toBe(422);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
    const codes = r.body.errors.map((e: { code: string }) => e.code);
    expect(codes).toEqual(
      expect.arrayContaining([
        "duplicate_category_id",
        "duplicate_seat_id",
        "unknown_category",
        "seat_without_category",
      ]),
    );
    for (const e of r.body.errors)
      expect(Object.keys(e).sort()).toEqual(["code", "message", "path"]);
    expect(mc.acceptors.aws.records.size).toBe(before);
  });

  it("is idempotent: same key and body replays; same key, other body is 422; no key is 400", async () => {
    const key = newKey();
    const first = await manage(mc, "cloudflare", odeon, "POST", "/v1/manage/plans", {
      key,
      body: { format: "tessera", plan: small },
    });
    const again = await manage(mc, "aws", odeon, "POST", "/v1/manage/plans", {
      key,
      body: { format: "tessera", plan: small },
    });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const other = await manage(mc, "aws", odeon, "POST", "/v1/manage/plans", {
      key,
      body: { format: "tessera", plan: { ...small, name: "Other" } },
    });
    expect(other.status).toBe(422);
    expect(other.body.type).toMatch(/idempotency-key-reused$/);
    const none = await manage(mc, "aws", odeon, "POST", "/v1/manage/plans", {
      body: { format: "tessera", plan: small },
    });
    expect(none.status).toBe(400);
    expect(none.headers.get("content-type")).toBe("application/problem+json");
  });

  it("stores a large plan in bounded chunks and reassembles it exactly", async () => {
    const plan = bigPlan(3, 1500); // rows longer than a chunk, long ids
    const r = await manage(mc, "vercel", odeon, "POST", "/v1/manage/plans", {
      key: newKey(),
      body: { format: "tessera", plan },
    });
    expect(r.status).toBe(201);
    expect(r.body.seatCount).toBe(4500);
    const section = r.body.sections[0];
    expect(section.chunks).toBeGreaterThan(4500 / PLAN_CHUNK_SEATS);
    const id = r.body.id as string;
    for (const [k, rec] of mc.acceptors.cloudflare.records) {
      if (!k.startsWith(`plansec/${id}/`)) continue;
      expect(rec.value!.length).toBeLessThanOrEqual(PLAN_CHUNK_BYTES_MAX + 1000);
    }
    expect(mc.acceptors.vercel.records.has(planKey(id))).toBe(true);
    const g = await manage(mc, "cloudflare", odeon, "GET", `/v1/manage/plans/${id}`);
    const got = g.body as SeatingPlan;
    expect(got.sections[0]!.rows.map((x) => x.seats.length)).toEqual([1500, 1500, 1500]);
    expect(got).toEqual({ ...plan, id, generalAdmission: [] });
  });

  it("lists the theatre's plans with cursor pagination", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const q = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const r = await manage(mc, "aws", odeon, "GET", `/v1/manage/plans${q}`);
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.items.map((p: { id: string }) => p.id));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen.length).toBe(4);
    expect(new Set(seen).size).toBe(4);
  });
});
