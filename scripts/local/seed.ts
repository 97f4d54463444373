import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { issueLicense } from "../../shared/auth/license.ts";
import { createTesseraClient, theaterCredentials } from "../../shared/client/index.ts";
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
    const theaterKey = await generateEd25519Jwk("teatro-demo");
    const license = await issueLicense({
      governanceKey: cluster.governanceKey,
      theaterId: "teatro-demo",
      name: "Teatro Demo",
      theaterKey: publicOf(theaterKey),
      scopes: ["venues", "events", "orders", "sales"],
      clusterId: cluster.cluster.clusterId,
      now: Date.now(),
      ttlS: LICENSE_TTL_S,
    });
    state = { theaterKey, license };
    await writeFile(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  }
  const endpoints = PROVIDERS.map((p) => cluster.providers[p].url);
  if (state.eventId) return `demo: event ${state.eventId} (licence and key in ${file})`;

  const theater = createTesseraClient({ endpoints }).manage(
    theaterCredentials({ license: state.license, theaterKey: state.theaterKey }),
  );
  const planJson = JSON.parse(
    await readFile(new URL("../../docs/examples/plan-small.json", import.meta.url), "utf8"),
  ) as unknown;
  const plan = await theater.uploadPlan("tessera", planJson);
  const venue = await theater.createVenue({
    name: "Teatro Demo",
    address: "Via del Teatro 1, Roma",
    timezone: "Europe/Rome",
    planId: plan.id,
  });
  const now = Date.now();
  const ev = await theater.createEvent({
    title: "La Locandiera",
    startsAt: new Date(now + 14 * DAY_MS).toISOString(),
    venueId: venue.id,
    planId: plan.id,
    priceCategories: plan.categories.map((c, i) => ({
      categoryId: c.id,
      price: { amount: 2500 + i * 1500, currency: "EUR" as const },
    })),
    salesWindow: {
      opensAt: new Date(now - DAY_MS).toISOString(),
      closesAt: new Date(now + 13 * DAY_MS).toISOString(),
    },
  });
  await theater.openSales(ev.id);
  state.eventId = ev.id;
  await writeFile(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  return `demo: "La Locandiera" on sale, ${plan.seatCount} seats — ${endpoints[0]}/events/${ev.id} (theatre licence and key in ${file})`;
}
