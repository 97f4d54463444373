import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { issueLicense } from "../../shared/auth/license.ts";
import {
  createTesseraClient,
  type Event,
  type ManageClient,
  type PlanMeta,
  theaterCredentials,
  type Venue,
} from "../../shared/client/index.ts";
import { PROVIDERS, type PrivateJwk } from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";
import type { LocalCluster } from "./cluster.ts";

const DAY_MS = 86_400_000;
/** A year: the demo licence should outlive any local session. */
const LICENSE_TTL_S = 365 * 86_400;

interface DemoState {
  theaterKey: PrivateJwk;
  license: string;
  eventId?: string;
}

/** A theatre's key and its licence (every management scope), signed with the local governance key. */
export async function licenseTheater(
  cluster: Pick<LocalCluster, "cluster" | "governanceKey">,
  o: { theaterId: string; name: string; ttlS: number; now?: number },
): Promise<{ theaterKey: PrivateJwk; license: string }> {
  const theaterKey = await generateEd25519Jwk(o.theaterId);
  const license = await issueLicense({
    governanceKey: cluster.governanceKey,
    theaterId: o.theaterId,
    name: o.name,
    theaterKey: publicOf(theaterKey),
    scopes: ["venues", "events", "orders", "sales"],
    clusterId: cluster.cluster.clusterId,
    now: o.now ?? Date.now(),
    ttlS: o.ttlS,
  });
  return { theaterKey, license };
}

/** The example plan every local seed uses (docs/examples/plan-small.json). */
export async function examplePlan(): Promise<unknown> {
  return JSON.parse(
    await readFile(new URL("../../docs/examples/plan-small.json", import.meta.url), "utf8"),
  ) as unknown;
}

/** The management calls openEventOnSale makes, in its order (a test may send each elsewhere). */
export type OpeningCalls = Pick<
  ManageClient,
  "uploadPlan" | "createVenue" | "createEvent" | "openSales"
>;

/**
 * Through the public management API: uploads `plan` (a Tessera plan), creates a venue on it and an
 * event two weeks after `now` whose sales window opened a day before `now`, one price per category
 * (2500, 4000, … cents), and opens its sale.
 */
export async function openEventOnSale(
  theater: OpeningCalls,
  o: {
    plan: unknown;
    venue: { name: string; address: string; timezone: string };
    title: string;
    now: number;
  },
): Promise<{ plan: PlanMeta; venue: Venue; event: Event }> {
  const plan = await theater.uploadPlan("tessera", o.plan);
  const venue = await theater.createVenue({ ...o.venue, planId: plan.id });
  const ev = await theater.createEvent({
    title: o.title,
    startsAt: new Date(o.now + 14 * DAY_MS).toISOString(),
    venueId: venue.id,
    planId: plan.id,
    priceCategories: plan.categories.map((c, i) => ({
      categoryId: c.id,
      price: { amount: 2500 + i * 1500, currency: "EUR" as const },
    })),
    salesWindow: {
      opensAt: new Date(o.now - DAY_MS).toISOString(),
      closesAt: new Date(o.now + 13 * DAY_MS).toISOString(),
    },
  });
  const event = await theater.openSales(ev.id);
  return { plan, venue, event };
}

/**
 * Seeds a small demo theatre so a new user sees real data at once: a licence for "Teatro Demo"
 * (signed with the local governance key), the example plan, a venue and an event on sale, all
 * through the public management API. Idempotent: the state lives in <dataDir>/demo.json and a
 * restart reuses it instead of creating a second event.
 */
export async function seedDemo(cluster: LocalCluster, dataDir: string): Promise<string> {
  const file = join(dataDir, "demo.json");
  await mkdir(dataDir, { recursive: true });
  let state: DemoState;
  if (existsSync(file)) {
    state = JSON.parse(await readFile(file, "utf8")) as DemoState;
  } else {
    state = await licenseTheater(cluster, {
      theaterId: "teatro-demo",
      name: "Teatro Demo",
      ttlS: LICENSE_TTL_S,
    });
    await writeFile(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  }
  const endpoints = PROVIDERS.map((p) => cluster.providers[p].url);
  if (state.eventId) return `demo: event ${state.eventId} (licence and key in ${file})`;

  const theater = createTesseraClient({ endpoints }).manage(
    theaterCredentials({ license: state.license, theaterKey: state.theaterKey }),
  );
  const { plan, event } = await openEventOnSale(theater, {
    plan: await examplePlan(),
    venue: { name: "Teatro Demo", address: "Via del Teatro 1, Roma", timezone: "Europe/Rome" },
    title: "La Locandiera",
    now: Date.now(),
  });
  state.eventId = event.id;
  await writeFile(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  return `demo: "La Locandiera" on sale, ${plan.seatCount} seats — ${endpoints[0]}/events/${event.id} (theatre licence and key in ${file})`;
}
