import { beforeAll, describe, expect, it } from "vitest";
import { CreateEventInput } from "../../shared/domain/event.ts";
import { SeatingPlanInput } from "../../shared/domain/seating-plan.ts";
import { Label, Name } from "../../shared/domain/text.ts";
import { CreateVenueInput } from "../../shared/domain/venue.ts";
import {
  eventBody,
  licensedTheater,
  manage,
  newKey,
  readJson,
  type TheaterCreds,
} from "../functions/routes/manage/helpers.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";

/** Issue #11 item 8: human-readable text must not carry control or bidi-override characters. */

const HOSTILE = [
  "\u0000",
  "\u0007",
  "\u001b[31m",
  "\u007f",
  "\u0085",
  "\u009b",
  "\u202a",
  "\u202b",
  "\u202c",
  "\u202d",
  "\u202e",
  "\u2066",
  "\u2067",
  "\u2068",
  "\u2069",
];

describe("display text schemas", () => {
  it("refuse every control and bidi override/isolate character in names and labels", () => {
    for (const bad of HOSTILE) {
      expect(Name.safeParse(`Gala${bad}Night`).success, JSON.stringify(bad)).toBe(false);
      expect(Label.safeParse(`A${bad}1`).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("still accept ordinary international text, and line breaks only where text is multi-line", () => {
    for (const ok of ["Die Zauberflöte", "عايدة", "אאידה", "椿姫", "Pagliacci 🎭", "R&J — Act I"]) {
      expect(Name.safeParse(ok).success, ok).toBe(true);
    }
    expect(Name.safeParse("two\nlines").success).toBe(false);
    const venue = { name: "Hall", timezone: "Europe/Vienna", planId: "p" };
    expect(CreateVenueInput.safeParse({ ...venue, address: "Ring 1\n1010 Wien" }).success).toBe(
      true,
    );
    expect(CreateVenueInput.safeParse({ ...venue, address: "Ring 1\u202e0101" }).success).toBe(
      false,
    );
  });

  it("apply to event descriptions (paragraphs allowed, NUL and overrides not)", () => {
    const base = eventBody(0, "v", "p", { a: 100 });
    expect(
      CreateEventInput.safeParse({ ...base, description: "Act I.\n\n\tAct II." }).success,
    ).toBe(true);
    expect(CreateEventInput.safeParse({ ...base, description: "a\u0000b" }).success).toBe(false);
    expect(CreateEventInput.safeParse({ ...base, description: "a\u2067b" }).success).toBe(false);
  });

  it("apply to plan seat labels", async () => {
    const plan = structuredClone((await readJson("docs/examples/plan-small.json")) as never) as {
      sections: { name: string; rows: { seats: { label: string }[] }[] }[];
    };
    plan.sections[0]!.rows[0]!.seats[0]!.label = "1\u202e";
    expect(SeatingPlanInput.safeParse(plan).success).toBe(false);
  });
});

describe("management API", () => {
  let mc: MemoryCluster;
  let t: TheaterCreds;
  let planId: string;
  let venueId: string;

  beforeAll(async () => {
    mc = await startMemoryCluster();
    t = await licensedTheater(mc, "bidi");
    const p = await manage(mc, "cloudflare", t, "POST", "/v1/manage/plans", {
      key: newKey(),
      body: { format: "tessera", plan: await readJson("docs/examples/plan-small.json") },
    });
    planId = p.body.id;
    const v = await manage(mc, "vercel", t, "POST", "/v1/manage/venues", {
      key: newKey(),
      body: { name: "Hall", address: "Wien", timezone: "Europe/Vienna", planId },
    });
    venueId = v.body.id;
  });

  it("answers 400 problem+json naming /title for a title with a right-to-left override", async () => {
    const r = await manage(mc, "aws", t, "POST", "/v1/manage/events", {
      key: newKey(),
      body: eventBody(
        mc.clock.ms,
        venueId,
        planId,
        { premium: 1, standard: 1 },
        {
          title: "Free entry\u202e)99.99 EUR(",
        },
      ),
    });
    expect(r.status).toBe(400);
    expect(r.headers.get("content-type")).toContain("application/problem+json");
    expect(r.body.errors.map((e: { path: string }) => e.path)).toContain("/title");
  });

  it("answers 400 for a venue name with NUL, and stores nothing", async () => {
    const r = await manage(mc, "cloudflare", t, "POST", "/v1/manage/venues", {
      key: newKey(),
      body: { name: "Hall\u0000", address: "Wien", timezone: "Europe/Vienna", planId },
    });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e: { path: string }) => e.path)).toContain("/name");
    const list = await manage(mc, "aws", t, "GET", "/v1/manage/venues");
    expect(list.body.items.map((v: { name: string }) => v.name)).toEqual(["Hall"]);
  });

  it("refuses a plan whose seat label hides an isolate", async () => {
    const plan = (await readJson("docs/examples/plan-small.json")) as {
      id: string;
      sections: { rows: { seats: { label: string }[] }[] }[];
    };
    plan.id = "bidi-plan";
    plan.sections[0]!.rows[0]!.seats[0]!.label = "\u20661\u2069";
    const r = await manage(mc, "cloudflare", t, "POST", "/v1/manage/plans", {
      key: newKey(),
      body: { format: "tessera", plan },
    });
    expect(r.status).toBe(422);
    expect(JSON.stringify(r.body.errors)).toContain("bidi");
  });
});
