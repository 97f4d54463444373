/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { NeedsScript } from "../layout.tsx";

/**
 * Theater pages. Each is wrapped in TheaterShell: the sign-in form (shown when this tab holds no
 * license and key) and the page itself (shown once signed in).
 */

export const TheaterShell = ({ children }: { children?: Child }) => (
  <>
    <NeedsScript />
    <section id="theater-signin" hidden aria-labelledby="theater-signin-heading">
      <h1 id="theater-signin-heading">Theater sign-in</h1>
      <p>
        Paste your theater license and your theater's private key (or choose the files{" "}
        <code>tessera license issue</code> wrote). The key stays in this browser tab: it signs a
        short-lived token for each request and is forgotten when the tab closes.
      </p>
      <div id="theater-signin-notice" hidden />
      <form id="theater-signin-form">
        <p class="field">
          <label for="license-text">License (compact JWS)</label>
          <textarea id="license-text" rows={4} required spellcheck={false} />
        </p>
        <p class="field">
          <label for="license-file">…or the license file</label>
          <input id="license-file" type="file" accept=".jws,.jwt,.txt" />
        </p>
        <p class="field">
          <label for="key-text">Theater private key (Ed25519 JWK)</label>
          <textarea id="key-text" rows={4} required spellcheck={false} />
        </p>
        <p class="field">
          <label for="key-file">…or the key file</label>
          <input id="key-file" type="file" accept=".json,.jwk" />
        </p>
        <p>
          <button type="submit">Sign in</button>
        </p>
      </form>
    </section>
    <div id="theater-app" hidden>
      <p id="theater-who" class="muted" />
      {children}
    </div>
  </>
);

export const TheaterHomePage = () => (
  <TheaterShell>
    <h1>Theater</h1>
    <div id="theater-notice" hidden />
    <div class="grid2">
      <section aria-labelledby="th-events">
        <h2 id="th-events">Events</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Date</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody id="theater-events" />
          </table>
        </div>
        <p>
          <a class="button" href="/theater/events/new">
            New event
          </a>
        </p>
      </section>
      <section aria-labelledby="th-plans">
        <h2 id="th-plans">Seating plans</h2>
        <ul id="theater-plans" />
        <p>
          <a class="button" href="/theater/plans/new">
            Import a seating plan
          </a>
        </p>
        <h2>Backup</h2>
        <p>
          Everything you own (venues, plans, events, seats, orders, tickets) in one checksummed
          file.
        </p>
        <p>
          <button id="backup-button" type="button">
            Download backup
          </button>
        </p>
      </section>
    </div>
  </TheaterShell>
);

export const TheaterPlanPage = () => (
  <TheaterShell>
    <h1>Seating plan</h1>
    <div id="plan-notice" hidden />
    <section id="plan-import" aria-labelledby="plan-import-heading">
      <h2 id="plan-import-heading">Import a plan</h2>
      <form id="plan-form">
        <fieldset>
          <legend>Format</legend>
          <p>
            <input id="format-tessera" type="radio" name="format" value="tessera" checked />{" "}
            <label for="format-tessera">Tessera seating plan</label>
          </p>
          <p>
            <input id="format-pretix" type="radio" name="format" value="pretix" />{" "}
            <label for="format-pretix">pretix seating plan export</label>
          </p>
        </fieldset>
        <p class="field">
          <label for="plan-file">Plan file (JSON)</label>
          <input id="plan-file" type="file" accept=".json,application/json" />
        </p>
        <p class="field">
          <label for="plan-text">…or paste the plan</label>
          <textarea id="plan-text" rows={6} spellcheck={false} />
        </p>
        <p>
          <button type="submit">Import plan</button>
        </p>
      </form>
    </section>
    <section id="plan-preview" hidden aria-labelledby="plan-name">
      <h2 id="plan-name">Preview</h2>
      <ul id="plan-facts" />
      <div id="plan-map" />
      <p>
        <a id="plan-new-event" class="button" href="/theater/events/new">
          Create an event with this plan
        </a>
      </p>
    </section>
  </TheaterShell>
);

export const TheaterEventNewPage = () => (
  <TheaterShell>
    <h1>New event</h1>
    <div id="event-form-notice" hidden />
    <form id="event-form">
      <p class="field">
        <label for="title">Title</label>
        <input id="title" name="title" required maxlength={200} />
      </p>
      <p class="field">
        <label for="description">Description</label>
        <textarea id="description" name="description" rows={3} />
      </p>
      <p class="field">
        <label for="starts-at">Starts at</label>
        <input id="starts-at" name="startsAt" type="datetime-local" required />
      </p>
      <p class="field">
        <label for="plan">Seating plan</label>
        <select id="plan" name="plan" />
      </p>
      <p class="field">
        <label for="venue">Venue</label>
        <select id="venue" name="venue" />
      </p>
      <fieldset id="new-venue">
        <legend>New venue</legend>
        <p class="field">
          <label for="venue-name">Venue name</label>
          <input id="venue-name" name="venueName" value="Main hall" />
        </p>
        <p class="field">
          <label for="venue-address">Address</label>
          <input id="venue-address" name="venueAddress" value="1 Theatre Square" />
        </p>
        <p class="field">
          <label for="venue-tz">Time zone</label>
          <input id="venue-tz" name="venueTz" value="UTC" />
        </p>
      </fieldset>
      <fieldset>
        <legend>Prices</legend>
        <p class="field" id="currency-slot" />
        <div id="prices" />
      </fieldset>
      <fieldset>
        <legend>Sales</legend>
        <p class="field">
          <label for="opens-at">Sales open</label>
          <input id="opens-at" name="opensAt" type="datetime-local" required />
        </p>
        <p class="field">
          <label for="closes-at">Sales close</label>
          <input id="closes-at" name="closesAt" type="datetime-local" required />
        </p>
        <p class="field">
          <label for="visibility">Who can buy</label>
          <select id="visibility" name="visibility">
            <option value="public">Everyone</option>
            <option value="signed-in">Signed-in buyers</option>
          </select>
        </p>
        <p>
          <input id="open-now" type="checkbox" name="openNow" value="1" checked />{" "}
          <label for="open-now">Put on sale right away</label>
        </p>
      </fieldset>
      <p>
        <button type="submit">Create event</button>
      </p>
    </form>
  </TheaterShell>
);

export const TheaterEventPage = () => (
  <TheaterShell>
    <h1 id="manage-title">Event</h1>
    <p id="manage-meta" />
    <div id="manage-notice" hidden />
    <section aria-labelledby="sales-heading">
      <h2 id="sales-heading">Sales</h2>
      <p>
        <button id="open-sales" type="button" disabled>
          Open sales
        </button>{" "}
        <button id="close-sales" type="button" class="secondary" disabled>
          Close sales
        </button>{" "}
        <button id="cancel-event" type="button" class="danger" disabled>
          Cancel event
        </button>
      </p>
    </section>
    <section id="dashboard" aria-labelledby="dash-heading" aria-busy="true">
      <h2 id="dash-heading">Live sales</h2>
      <div id="dash-notice" hidden />
      <dl id="dash-numbers" class="numbers" />
      <div id="dash-bar" />
      <h3>Seats sold while this page is open</h3>
      <div id="dash-line" />
      <h3>Proceeds split</h3>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Party</th>
              <th scope="col">Amount</th>
            </tr>
          </thead>
          <tbody id="dash-proceeds" />
        </table>
      </div>
    </section>
    <section aria-labelledby="orders-heading">
      <h2 id="orders-heading">Orders</h2>
      <p>
        <button id="orders-refresh" type="button" class="secondary">
          Refresh orders
        </button>
      </p>
      <div id="orders-notice" hidden />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Buyer</th>
              <th scope="col">Seats</th>
              <th scope="col">Total</th>
              <th scope="col">Status</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody id="orders-body" />
        </table>
      </div>
    </section>
    <section aria-labelledby="edit-heading">
      <h2 id="edit-heading">Edit</h2>
      <form id="edit-form">
        <p class="field">
          <label for="edit-title">Title</label>
          <input id="edit-title" required maxlength={200} />
        </p>
        <p class="field">
          <label for="edit-description">Description</label>
          <textarea id="edit-description" rows={3} />
        </p>
        <p class="field">
          <label for="edit-starts-at">Starts at</label>
          <input id="edit-starts-at" type="datetime-local" required />
        </p>
        <p class="field">
          <label for="edit-closes-at">Sales close</label>
          <input id="edit-closes-at" type="datetime-local" required />
        </p>
        <fieldset id="edit-prices" />
        <p>
          <button type="submit">Save changes</button>
        </p>
      </form>
    </section>
  </TheaterShell>
);
