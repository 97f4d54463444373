import { RemoteAcceptor } from "../../functions/peers/remote-acceptor.ts";
import { EntityStore } from "../../functions/services/store.ts";
import {
  type ClusterConfig,
  PROVIDERS,
  type PrivateJwk,
  type ProviderId,
} from "../../shared/config.ts";
import type { Event, EventVisibility } from "../../shared/domain/event.ts";
import { eventKey, eventListKey, planKey, theaterEventKey } from "../../shared/domain/keys.ts";
import type { SeatCategory, SeatRow } from "../../shared/domain/seating-plan.ts";
import { QuorumClient } from "../../shared/quorum/client.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";

/**
 * Seeds a small plan and an on-sale event straight into the replicated store, in the layout the
 * management API writes (docs: api-common storage layout), for buyer tests and demo data:
 *   plan/<pid>                  plan metadata (sections with row and chunk counts)
 *   plansec/<pid>/<section>/0   the section's seats (one chunk: these plans are small)
 *   theater/<tid>/plan/<pid>    the theatre's plan index (value: the metadata)
 *   event/<eid>, events/<eid>, theater/<tid>/event/<eid>   the event and its two index entries
 */

export interface SeedOptions {
  /** Clock of the cluster: the sales window is opened around it. */
  nowMs: number;
  theaterId?: string;
  eventId?: string;
  planId?: string;
  /** Numbered sections as rows × seats per row (default: one section "stalls", 3 × 10). */
  sections?: { id: string; name: string; rows: number; seatsPerRow: number }[];
  /** General-admission places (default 20; 0 for none). */
  gaCapacity?: number;
  visibility?: EventVisibility;
  allowedBuyers?: string[];
  status?: Event["status"];
  /** Price of a numbered seat and of a GA place, in EUR cents. */
  seatPrice?: number;
  gaPrice?: number;
}

export interface Seeded {
  theaterId: string;
  eventId: string;
  planId: string;
  event: Event;
  /** Every numbered seat as the buyer API names it, in plan order. */
  seats: { sectionId: string; seatId: string }[];
  gaAreaId: string;
}

const DAY_MS = 86_400_000;

export async function seedEvent(
  target: { store: EntityStore } | EntityStore,
  o: SeedOptions,
): Promise<Seeded> {
  const store = target instanceof EntityStore ? target : target.store;
  const tag = Math.floor(Math.random() * 2 ** 32).toString(36);
  const theaterId = o.theaterId ?? "th-seed";
  const eventId = o.eventId ?? `ev-${tag}`;
  const planId = o.planId ?? `pl-${tag}`;
  const gaAreaId = "floor";
  const gaCapacity = o.gaCapacity ?? 20;
  const categories: SeatCategory[] = [
    { id: "std", name: "Standard", color: "#3366cc" },
    { id: "ga", name: "Standing", color: "#999999" },
  ];
  const sectionDefs = o.sections ?? [{ id: "stalls", name: "Stalls", rows: 3, seatsPerRow: 10 }];
  const seats: Seeded["seats"] = [];
  const chunks = sectionDefs.map((sec) => {
    const rows: SeatRow[] = Array.from({ length: sec.rows }, (_, r) => {
      const label = String.fromCharCode(65 + r);
      return {
        id: label,
        label,
        seats: Array.from({ length: sec.seatsPerRow }, (_, n) => {
          const id = `${sec.id}-${label}${n + 1}`;
          seats.push({ sectionId: sec.id, seatId: id });
          return { id, label: String(n + 1), x: 10 + n * 10, y: 10 + r * 10, category: "std" };
        }),
      };
    });
    return { key: `plansec/${planId}/${sec.id}/0`, value: { sectionId: sec.id, rows } };
  });
  const generalAdmission =
    gaCapacity > 0 ? [{ id: gaAreaId, name: "Floor", category: "ga", capacity: gaCapacity }] : [];
  const meta = {
    id: planId,
    theaterId,
    name: "Seed plan",
    size: { width: 1000, height: 600 },
    categories,
    sections: sectionDefs.map((sec) => ({
      id: sec.id,
      name: sec.name,
      rows: sec.rows,
      seatCount: sec.rows * sec.seatsPerRow,
      chunks: 1,
    })),
    generalAdmission,
    seatCount: seats.length + gaCapacity,
  };
  const event: Event = {
    id: eventId,
    theaterId,
    title: "Seeded performance",
    description: "",
    startsAt: new Date(o.nowMs + 30 * DAY_MS).toISOString(),
    venueId: "venue-seed",
    planId,
    priceCategories: [
      { categoryId: "std", price: { amount: o.seatPrice ?? 2500, currency: "EUR" } },
      { categoryId: "ga", price: { amount: o.gaPrice ?? 1500, currency: "EUR" } },
    ],
    salesWindow: {
      opensAt: new Date(o.nowMs - DAY_MS).toISOString(),
      closesAt: new Date(o.nowMs + 20 * DAY_MS).toISOString(),
    },
    visibility: o.visibility ?? "public",
    allowedBuyers: o.allowedBuyers ?? [],
    status: o.status ?? "on-sale",
  };
  const entry = {
    id: eventId,
    theaterId,
    title: event.title,
    startsAt: event.startsAt,
    status: event.status,
    visibility: event.visibility,
  };
  const writes: [string, unknown][] = [
    [planKey(planId), meta],
    [`theater/${theaterId}/plan/${planId}`, meta],
    ...chunks.map((c) => [c.key, c.value] as [string, unknown]),
    [eventKey(eventId), event],
    [eventListKey(eventId), entry],
    [theaterEventKey(theaterId, eventId), entry],
  ];
  const w = await store.change<unknown>(
    writes.map(([k]) => k),
    () => writes.map(([, v]) => v),
  );
  if (!w.ok) throw new Error(`seed aborted: ${String(w.reason)}`);
  return { theaterId, eventId, planId, event, seats, gaAreaId };
}

function storeOver(acceptors: AcceptorPort[], localIndex: number, now: () => number, id: string) {
  const client = new QuorumClient({
    acceptors,
    localIndex,
    proposerId: `${id}-${Math.floor(Math.random() * 2 ** 32).toString(36)}`,
    now,
    random: Math.random,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  });
  return new EntityStore(client, acceptors[localIndex]!);
}

/** An EntityStore over three in-process acceptors (e.g. a memory cluster's), no HTTP involved. */
export function directStore(
  acceptors: Record<ProviderId, AcceptorPort>,
  now: () => number = Date.now,
): EntityStore {
  return storeOver(
    PROVIDERS.map((p) => acceptors[p]),
    0,
    now,
    "seed",
  );
}

/**
 * An EntityStore that reaches a running cluster's three stores over their signed internal
 * endpoints, as a peer would. A provider accepts only its peers' keys, so each one is called with
 * the key of the provider after it.
 */
export function remoteStore(
  c: { cluster: ClusterConfig; keys: Record<ProviderId, PrivateJwk> },
  now: () => number = Date.now,
): EntityStore {
  const acceptors = PROVIDERS.map((p, i) => {
    const signer = PROVIDERS[(i + 1) % PROVIDERS.length]!;
    return new RemoteAcceptor({ to: p, url: c.cluster.providers[p].url, key: c.keys[signer], now });
  });
  return storeOver(acceptors, 0, now, "seed-remote");
}
