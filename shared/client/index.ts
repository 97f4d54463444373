import { type Credentials, newIdempotencyKey, type RequestSpec, Transport } from "./transport.ts";
import type {
  BuyerOrder,
  CancelProgress,
  CardInput,
  CreateEventInput,
  CreateVenueInput,
  Event,
  EventListItem,
  EventSummary,
  Hold,
  IssuedTicket,
  ManagedOrder,
  Page,
  PageOptions,
  PlanMeta,
  PublicEvent,
  Purchase,
  RevocationFeed,
  SeatingPlan,
  SeatMap,
  SeatRef,
  StoredBackup,
  TicketExport,
  UpdateEventInput,
  UpdateVenueInput,
  Venue,
} from "./types.ts";

export * from "./problem.ts";
export { theaterCredentials } from "./theater.ts";
export type { Credentials } from "./transport.ts";
export { FAILOVER_STATUSES } from "./transport.ts";
export type * from "./types.ts";

/**
 * Typed client of the Tessera API. Give it the three providers' URLs (or the one geo-routed name):
 * a call that meets a network error or a 502/503/504 is retried on the next one with the same
 * body and Idempotency-Key (generated once per logical call unless you pass one), so a lost reply
 * never turns into a second hold, purchase or refund. Refusals surface as TesseraProblemError.
 *
 * The client is an edge of the system, not the pure core: it defaults to the global fetch, the
 * wall clock (theaterCredentials) and random Idempotency-Keys; all three can be injected.
 */
export interface TesseraClientOptions {
  endpoints: readonly string[];
  /** The buyer's access token (OIDC), asked for on every attempt so it can be refreshed. */
  token?: () => string | undefined | Promise<string | undefined>;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/** Options of a write that creates or pays. */
export interface WriteOptions {
  /** Reuse a key to retry a call whose outcome you did not learn; by default a fresh one. */
  idempotencyKey?: string;
}

const enc = encodeURIComponent;

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export type TesseraClient = ReturnType<typeof createTesseraClient>;
export type ManageClient = ReturnType<TesseraClient["manage"]>;

export function createTesseraClient(o: TesseraClientOptions) {
  const t = new Transport({
    endpoints: o.endpoints,
    ...(o.fetch ? { fetch: o.fetch } : {}),
    ...(o.sleep ? { sleep: o.sleep } : {}),
  });
  const buyer: Credentials = async () => {
    const token = await o.token?.();
    return token ? `Bearer ${token}` : undefined;
  };

  return {
    ...buyerCalls(t, buyer),

    /** Every page of a list, one request at a time. */
    async *paginate<T>(list: (opts: PageOptions) => Promise<Page<T>>, limit = 100) {
      let cursor: string | undefined;
      do {
        const page = await list({ limit, ...(cursor ? { cursor } : {}) });
        yield* page.items;
        cursor = page.nextCursor;
      } while (cursor);
    },

    /** Management calls of one theatre (see theaterCredentials). */
    manage(credentials: Credentials) {
      return manageCalls(t, credentials);
    },
  };
}

/** Browsing, holds, payment, and the buyer's own orders and tickets. */
function buyerCalls(t: Transport, buyer: Credentials) {
  const call = <T>(spec: RequestSpec) => t.json<T>({ auth: buyer, ...spec });
  const write = <T>(spec: RequestSpec, w: WriteOptions = {}) =>
    call<T>({ ...spec, idempotencyKey: w.idempotencyKey ?? newIdempotencyKey() });

  return {
    /** Events you may see; `q` searches titles. */
    listEvents: (opts: PageOptions & { q?: string } = {}) =>
      call<Page<EventListItem>>({
        method: "GET",
        path: `/v1/events${query({ q: opts.q, cursor: opts.cursor, limit: opts.limit })}`,
      }),

    getEvent: (eventId: string) =>
      call<PublicEvent>({ method: "GET", path: `/v1/events/${enc(eventId)}` }),

    /**
     * The seat map with live availability. Pass the `etag` of an earlier answer to get
     * `{ notModified: true }` instead of the same map again.
     */
    async getSeatMap(
      eventId: string,
      opts: { section?: string; etag?: string } = {},
    ): Promise<
      { notModified: true; etag: string } | { notModified: false; etag: string; seatMap: SeatMap }
    > {
      const r = await t.send({
        method: "GET",
        path: `/v1/events/${enc(eventId)}/seats${query({ section: opts.section })}`,
        auth: buyer,
        accept: [304],
        ...(opts.etag ? { headers: { "if-none-match": opts.etag } } : {}),
      });
      const etag = r.headers.get("etag") ?? "";
      if (r.status === 304) return { notModified: true, etag };
      return { notModified: false, etag, seatMap: (await r.json()) as SeatMap };
    },

    /**
     * The event's revoked tickets numbered after `since` (format tessera.revocations): call again
     * with `since: feed.next` until `feed.complete`. Check each entry with `verifyRevocation`
     * (shared/tickets/revocation.ts) or all with `checkFeeds`.
     */
    getRevocations: (eventId: string, opts: { since?: number } = {}) =>
      call<RevocationFeed>({
        method: "GET",
        path: `/v1/events/${enc(eventId)}/revocations${query({ since: opts.since })}`,
      }),

    /** Holds every seat or none (409 lists the taken ones). */
    hold: (eventId: string, seats: readonly SeatRef[], w?: WriteOptions) =>
      write<Hold>({ method: "POST", path: `/v1/events/${enc(eventId)}/holds`, body: { seats } }, w),

    getHold: (holdId: string) => call<Hold>({ method: "GET", path: `/v1/holds/${enc(holdId)}` }),

    /** Pays for a hold; a declined card is a 402 problem and the seats stay held. Pass no card
     * (undefined) for free seats: a zero total never reaches the card processor. */
    confirm: (holdId: string, card: CardInput | undefined, w?: WriteOptions) =>
      write<Purchase>(
        {
          method: "POST",
          path: `/v1/holds/${enc(holdId)}/confirm`,
          body: card === undefined ? {} : { card },
        },
        w,
      ),

    async release(holdId: string): Promise<void> {
      await t.send({ method: "DELETE", path: `/v1/holds/${enc(holdId)}`, auth: buyer });
    },

    myOrders: (opts: PageOptions = {}) =>
      call<Page<BuyerOrder>>({ method: "GET", path: `/v1/me/orders${query({ ...opts })}` }),

    myOrder: (orderId: string) =>
      call<Purchase>({ method: "GET", path: `/v1/me/orders/${enc(orderId)}` }),

    myTickets: (opts: PageOptions = {}) =>
      call<Page<IssuedTicket>>({ method: "GET", path: `/v1/me/tickets${query({ ...opts })}` }),

    /** Every ticket of yours in one signed file (format tessera.tickets, docs/tickets.md). */
    exportTickets: () => call<TicketExport>({ method: "GET", path: "/v1/me/tickets/export" }),
  };
}

/** A theatre's plans, venues, events, orders and backups. */
function manageCalls(t: Transport, credentials: Credentials) {
  const m = <T>(spec: RequestSpec) => t.json<T>({ ...spec, auth: credentials });
  const mw = <T>(spec: RequestSpec, w: WriteOptions = {}) =>
    m<T>({ ...spec, idempotencyKey: w.idempotencyKey ?? newIdempotencyKey() });
  const ev = (id: string) => `/v1/manage/events/${enc(id)}`;
  return {
    uploadPlan: (format: "tessera" | "pretix", plan: unknown, w?: WriteOptions) =>
      mw<PlanMeta>({ method: "POST", path: "/v1/manage/plans", body: { format, plan } }, w),
    listPlans: (opts: PageOptions = {}) =>
      m<Page<PlanMeta>>({ method: "GET", path: `/v1/manage/plans${query({ ...opts })}` }),
    getPlan: (planId: string) =>
      m<SeatingPlan>({ method: "GET", path: `/v1/manage/plans/${enc(planId)}` }),

    createVenue: (venue: CreateVenueInput, w?: WriteOptions) =>
      mw<Venue>({ method: "POST", path: "/v1/manage/venues", body: venue }, w),
    listVenues: (opts: PageOptions = {}) =>
      m<Page<Venue>>({ method: "GET", path: `/v1/manage/venues${query({ ...opts })}` }),
    getVenue: (venueId: string) =>
      m<Venue>({ method: "GET", path: `/v1/manage/venues/${enc(venueId)}` }),
    updateVenue: (venueId: string, patch: UpdateVenueInput) =>
      m<Venue>({ method: "PATCH", path: `/v1/manage/venues/${enc(venueId)}`, body: patch }),

    createEvent: (event: CreateEventInput, w?: WriteOptions) =>
      mw<Event>({ method: "POST", path: "/v1/manage/events", body: event }, w),
    listEvents: (opts: PageOptions = {}) =>
      m<Page<Event>>({ method: "GET", path: `/v1/manage/events${query({ ...opts })}` }),
    getEvent: (eventId: string) => m<Event>({ method: "GET", path: ev(eventId) }),
    updateEvent: (eventId: string, patch: UpdateEventInput, opts: { ifMatch?: string } = {}) =>
      m<Event>({
        method: "PATCH",
        path: ev(eventId),
        body: patch,
        ...(opts.ifMatch ? { headers: { "if-match": opts.ifMatch } } : {}),
      }),
    openSales: (eventId: string) => m<Event>({ method: "POST", path: `${ev(eventId)}/open-sales` }),
    closeSales: (eventId: string) =>
      m<Event>({ method: "POST", path: `${ev(eventId)}/close-sales` }),
    eventOrders: (eventId: string, opts: PageOptions = {}) =>
      m<Page<ManagedOrder>>({
        method: "GET",
        path: `${ev(eventId)}/orders${query({ ...opts })}`,
      }),
    eventSummary: (eventId: string) =>
      m<EventSummary>({ method: "GET", path: `${ev(eventId)}/summary` }),
    /**
     * Cancels the event for good: every order refunded, every ticket revoked. A call works for up
     * to 20 s; repeat it until `status` is "cancelled" (it goes on where the last one stopped).
     */
    cancelEvent: (eventId: string) =>
      m<CancelProgress>({ method: "POST", path: `${ev(eventId)}/cancel` }),
    /** Refunds the whole order, or with `seats` only those seats (the order stays confirmed and
     * lists them in `refundedSeats`); either way their tickets are revoked. */
    refundOrder: (orderId: string, w?: WriteOptions & { seats?: readonly SeatRef[] }) =>
      mw<ManagedOrder>(
        {
          method: "POST",
          path: `/v1/manage/orders/${enc(orderId)}/refund`,
          ...(w?.seats ? { body: { seats: w.seats } } : {}),
        },
        w,
      ),

    /** The backup file as a streamed Response (read `body` to save it without buffering). */
    backup: () => t.send({ method: "GET", path: "/v1/manage/backup", auth: credentials }),
    /** Stores a backup on one provider's blob store; download it from `provider`. */
    storeBackup: () => m<StoredBackup>({ method: "GET", path: "/v1/manage/backup?delivery=store" }),
  };
}
