import type { TestCluster } from "../../scripts/local/throwaway-cluster.ts";
import { PROVIDERS } from "../../shared/config.ts";
import type {
  BackupCheckIn,
  BackupSeat,
  BackupSource,
  Pages,
} from "../../shared/formats/backup.ts";
import type { Ticket } from "../../shared/tickets/sign.ts";
import type { ClusterKeys } from "../../shared/tickets/trust.ts";
import { clusterKeysOf, sampleClaims, signBy } from "../tickets/fixtures.ts";

export const THEATER = { id: "thr_grand", name: "Grand Théâtre" };

function* pagesOf<T>(items: readonly T[], size: number): Iterable<readonly T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** `n` seats of one event, generated page by page (never all in memory). */
async function* seatPages(
  n: number,
  soldEvery: number,
  pageSize: number,
): AsyncIterable<BackupSeat[]> {
  for (let start = 0; start < n; start += pageSize) {
    const page: BackupSeat[] = [];
    for (let i = start; i < Math.min(n, start + pageSize); i++) {
      const seatId = `S${String(i).padStart(6, "0")}`;
      page.push(
        i % soldEvery === 0
          ? { eventId: "evt_1", seatId, state: "sold", orderId: `ord_${i}` }
          : { eventId: "evt_1", seatId, state: "available" },
      );
    }
    yield page;
  }
}

async function* orderPages(n: number, soldEvery: number, pageSize: number) {
  let page: { id: string; theaterId: string; total: number }[] = [];
  for (let i = 0; i < n; i += soldEvery) {
    page.push({ id: `ord_${i}`, theaterId: THEATER.id, total: 4500 });
    if (page.length === pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length) yield page;
}

export async function signedTickets(tc: TestCluster, count: number, soldEvery: number) {
  const out: Ticket[] = [];
  for (let k = 0; k < count; k++) {
    const i = k * soldEvery;
    const seatId = `S${String(i).padStart(6, "0")}`;
    const claims = sampleClaims({
      tid: `tkt_${i}`,
      cid: tc.cluster.clusterId,
      evt: "evt_1",
      ord: `ord_${i}`,
      thr: THEATER.id,
      seat: { id: seatId, label: `Seat ${i}`, category: "A" },
    });
    out.push(await signBy(tc, claims, PROVIDERS.slice(k % 2, (k % 2) + 2)));
  }
  return out;
}

export interface SourceOptions {
  seats: number;
  soldEvery: number;
  tickets: Ticket[];
  pageSize?: number;
  checkIns?: BackupCheckIn[];
}

export function makeSource(tc: TestCluster, o: SourceOptions): BackupSource {
  const pageSize = o.pageSize ?? 1000;
  const keys: ClusterKeys = clusterKeysOf(tc);
  const events = [
    { id: "evt_1", theaterId: THEATER.id, title: "La Bohème", startsAt: "2026-03-01T19:30:00Z" },
  ];
  return {
    clusterId: tc.cluster.clusterId,
    theater: THEATER,
    exportedAt: "2026-02-01T00:00:00Z",
    keys,
    venues: pagesOf([{ id: "ven_main", theaterId: THEATER.id, name: "Main hall" }], pageSize),
    seatingPlans: pagesOf([{ id: "plan_1", theaterId: THEATER.id, venueId: "ven_main" }], pageSize),
    events: pagesOf(events, pageSize),
    seats: seatPages(o.seats, o.soldEvery, pageSize),
    orders: orderPages(o.seats, o.soldEvery, pageSize),
    tickets: pagesOf(o.tickets, pageSize) as Pages<Ticket>,
    ...(o.checkIns ? { checkIns: pagesOf(o.checkIns, pageSize) } : {}),
  };
}

export async function collect(gen: AsyncIterable<string>): Promise<string> {
  let s = "";
  for await (const c of gen) s += c;
  return s;
}
