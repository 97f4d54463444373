/** @jsxImportSource hono/jsx */
import { NeedsScript } from "../layout.tsx";

/** Buyer pages: markup only; functions/web/client/pages/* fills them from the API. */

export const HomePage = () => (
  <>
    <h1>Events</h1>
    <search>
      <form id="search" class="search" action="/" method="get">
        <p class="field">
          <label for="q">Search events</label>
          <input id="q" name="q" type="search" autocomplete="off" />
        </p>
        <p class="field">
          <button type="submit">Search</button>
        </p>
      </form>
    </search>
    <NeedsScript />
    <div id="events-notice" hidden />
    <p id="events-count" aria-live="polite" class="muted">
      Loading events…
    </p>
    <ul id="events" class="events" aria-busy="true" aria-label="Events" />
  </>
);

export const EventPage = (p: { testCard?: string }) => (
  <>
    <h1 id="event-title">Event</h1>
    <div id="event-meta" />
    <NeedsScript />
    <div id="event-notice" hidden />
    <div class="layout">
      <SeatMapSection />
      <div>
        <ChoosePanel />
        <HoldPanel testCard={p.testCard} />
        <TicketsPanel />
      </div>
    </div>
  </>
);

const SeatMapSection = () => (
  <section aria-labelledby="map-heading">
    <h2 id="map-heading">Choose your seats</h2>
    <ul id="legend" class="legend" aria-label="Legend" />
    <div id="seatmap">
      <p class="muted">Loading the seat map…</p>
    </div>
    <div id="ga-areas" hidden />
  </section>
);

/** The seats chosen so far, before they are held. */
const ChoosePanel = () => (
  <section id="choose-panel" class="panel" aria-labelledby="selection-heading">
    <h2 id="selection-heading">Your seats</h2>
    <ul id="selected-seats" aria-live="polite">
      <li class="empty">No seats chosen yet.</li>
    </ul>
    <p>
      Total: <strong id="selected-total">–</strong>
    </p>
    <p>
      <button id="hold-button" type="button" disabled>
        Hold seats
      </button>{" "}
      <button id="clear-button" type="button" class="secondary" disabled>
        Clear
      </button>
    </p>
  </section>
);

/** The held seats with their countdown, and the payment form. */
const HoldPanel = (p: { testCard?: string | undefined }) => (
  <section id="hold-panel" class="panel" hidden aria-labelledby="hold-heading">
    <h2 id="hold-heading">Seats held for you</h2>
    <p>
      Time left to pay:{" "}
      <span id="hold-timer" class="timer" role="timer">
        –
      </span>
    </p>
    <ul id="held-seats" />
    <p>
      Total: <strong id="held-total">–</strong>
    </p>
    <form id="pay-form">
      <fieldset>
        <legend id="pay-legend">Pay by card</legend>
        <CardFields testCard={p.testCard} />
        <p id="free-note" class="muted" hidden>
          These seats are free: no card is needed.
        </p>
        <p>
          <button id="pay-button" type="submit">
            Pay
          </button>{" "}
          <button id="release-button" type="button" class="secondary">
            Release seats
          </button>
        </p>
      </fieldset>
    </form>
  </section>
);

const CardFields = (p: { testCard?: string | undefined }) => (
  <div id="card-fields">
    <p class="field">
      <label for="card-number">Card number</label>
      <input
        id="card-number"
        name="number"
        inputmode="numeric"
        autocomplete="cc-number"
        required
        aria-describedby={p.testCard ? "card-hint" : undefined}
      />
    </p>
    {p.testCard ? (
      <p id="card-hint" class="muted">
        Test mode: the card {p.testCard.replace(/(\d{4})(?=\d)/g, "$1 ")} is filled in; any future
        expiry and any CVC work. No real money moves.
      </p>
    ) : null}
    <p class="field">
      <label for="card-exp">Expiry (MM/YY)</label>
      <input id="card-exp" name="exp" value="12/34" autocomplete="cc-exp" required />
    </p>
    <p class="field">
      <label for="card-cvc">CVC</label>
      <input
        id="card-cvc"
        name="cvc"
        value="123"
        inputmode="numeric"
        autocomplete="cc-csc"
        required
      />
    </p>
  </div>
);

/** The tickets of the purchase just paid. */
const TicketsPanel = () => (
  <section id="tickets-panel" class="panel" hidden aria-labelledby="tickets-heading">
    <h2 id="tickets-heading" tabindex={-1}>
      Your tickets
    </h2>
    <div id="purchase-tickets" class="tickets" />
    <p>
      <a href="/me/tickets">All my tickets and the signed export</a>
    </p>
  </section>
);

export const TicketsPage = () => (
  <>
    <h1>My tickets</h1>
    <NeedsScript />
    <p>
      <button id="export-button" type="button">
        Download signed ticket export
      </button>
    </p>
    <div id="tickets-notice" hidden />
    <div id="tickets" class="tickets" aria-busy="true">
      <p class="muted">Loading your tickets…</p>
    </div>
    <section id="orders-section" hidden aria-labelledby="orders-heading">
      <h2 id="orders-heading">Orders</h2>
      <ul id="orders" />
    </section>
  </>
);

export const CallbackPage = () => (
  <>
    <h1>Signing you in…</h1>
    <NeedsScript />
    <div id="callback-notice" hidden />
  </>
);
