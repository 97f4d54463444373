import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueLicense } from "../../shared/auth/license.ts";
import type { PrivateJwk } from "../../shared/config.ts";
import { generateEd25519Jwk, publicOf } from "../../shared/crypto/keys.ts";
import { startTestCluster } from "../support/local-cluster.ts";
import {
  attrOf,
  axe,
  countOf,
  DESKTOP,
  launch,
  newContext,
  PHONE,
  poll,
  ready,
  screenshot,
  textOf,
} from "./browser.ts";

/**
 * The web front in a real browser against the real local three-provider cluster: a theater
 * imports a pretix plan and opens an event; a buyer signs in, picks two seats on the seat map, holds
 * them, loses one provider's store mid-purchase, pays, sees the tickets and downloads the signed
 * export; another browser sees the seats taken; the theater's dashboard counts them and refunds.
 * Then accessibility (axe-core, keyboard order of the seat map) and screenshots at two widths.
 *
 * The tests in this file run in order and share the cluster, the event and the purchase.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const PRETIX_PLAN = join(ROOT, "docs/examples/plan-pretix.json");
const EVENT_TITLE = "Gala of the Quorum";

type Cluster = Awaited<ReturnType<typeof startTestCluster>>;
let cluster: Cluster;
let browser: Browser;
let theater: { license: string; key: PrivateJwk };
let eventId = "";
const boughtSeats: string[] = [];
const contexts: BrowserContext[] = [];

const url = (p: "cloudflare" | "vercel" | "aws", path: string) =>
  `${cluster.providers[p].url}${path}`;

async function context(
  viewport: { width: number; height: number } = DESKTOP,
  extra: { bypassCSP?: boolean } = {},
) {
  const ctx = await newContext(browser, viewport, extra);
  contexts.push(ctx);
  return ctx;
}

async function theaterSignIn(page: Page, base: "cloudflare" | "vercel" | "aws") {
  await page.goto(url(base, "/theater"));
  await page.locator("#theater-signin").waitFor();
  await page.fill("#license-text", theater.license);
  await page.fill("#key-text", JSON.stringify(theater.key));
  await Promise.all([page.waitForEvent("load"), page.click("#theater-signin-form button")]);
  await page.locator("#theater-app").waitFor();
}

async function buyerSignIn(page: Page, user = "alice") {
  await page.click("#sign-in");
  // The development IdP's page (served under the cluster's issuer URL).
  await page.click(`button[value="${user}"]`);
  await page.waitForSelector(".who");
}

beforeAll(async () => {
  [cluster, browser] = await Promise.all([startTestCluster("test-e2e"), launch()]);
  const key = await generateEd25519Jwk("theater");
  const license = await issueLicense({
    governanceKey: cluster.governanceKey,
    theaterId: "th-e2e",
    name: "Théâtre du Quorum",
    theaterKey: publicOf(key),
    scopes: ["venues", "events", "orders", "sales"],
    clusterId: cluster.cluster.clusterId,
    now: Date.now(),
    ttlS: 3600,
  });
  theater = { license, key };
});

afterAll(async () => {
  await Promise.allSettled(contexts.map((c) => c.close()));
  await browser?.close();
  await cluster?.dispose();
});

/** The buyer's signed-in page, kept to look at the tickets again after the refund. */
let buyerPage: Page;

describe("web front", () => {
  it("a theater imports a pretix plan, previews it and opens an event", async () => {
    const page = await (await context()).newPage();
    await theaterSignIn(page, "aws");
    await poll(() => textOf(page, "#theater-who")).toContain("th-e2e");

    await page.goto(url("aws", "/theater/plans/new"));
    await ready(page);
    await page.setInputFiles("#plan-file", PRETIX_PLAN);
    // The picker guesses the format from the file.
    await expect.poll(() => page.isChecked("#format-pretix")).toBe(true);
    await page.click("#plan-form button[type=submit]");
    await page.locator("#plan-preview").waitFor();
    await poll(() => textOf(page, "#plan-name")).toBe("Kleiner Saal");
    const previewSeats = await page.locator("#plan-map g.seat").count();
    expect(previewSeats).toBe(22);
    await screenshot(page, "theater-plan-desktop");

    await page.click("#plan-new-event");
    await page.waitForURL(/\/theater\/events\/new\?plan=/);
    await ready(page);
    await page.fill("#title", EVENT_TITLE);
    await page.fill("#description", "A night of consensus.");
    const prices = page.locator("#prices input[data-category]");
    const n = await prices.count();
    expect(n).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < n; i++) await prices.nth(i).fill(i === 0 ? "25.00" : "40.50");
    await page.click("#event-form button[type=submit]");
    await page.waitForURL(/\/theater\/events\/(?!new)[^/?]+$/);
    eventId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop()!);
    await poll(() => textOf(page, "#manage-meta .badge")).toBe("on sale");
    await poll(() => textOf(page, "#dash-available")).toBe("22");
    await screenshot(page, "theater-event-desktop");
  });

  it("a buyer picks two seats, holds them, pays while a store is down, gets tickets and the export", async () => {
    const page = await (await context()).newPage();
    // Browsing reads are local: retry until this provider's store has the new event.
    await expect
      .poll(
        async () => {
          await page.goto(url("vercel", "/"));
          await ready(page);
          return await page.getByRole("link", { name: EVENT_TITLE }).count();
        },
        { timeout: 15_000 },
      )
      .toBe(1);
    await page.fill("#q", "quorum");
    await poll(() => countOf(page, "#events li")).toBe(1);
    await page.getByRole("link", { name: EVENT_TITLE }).click();
    await page.waitForURL(/\/events\//);
    await page.locator("#seatmap[data-loaded=true]").waitFor();

    await buyerSignIn(page);
    await page.locator("#seatmap[data-loaded=true]").waitFor();

    const free = page.locator("#seatmap g.seat[data-state=available]");
    for (let i = 0; i < 2; i++) {
      const seat = free.nth(i * 3);
      boughtSeats.push((await seat.getAttribute("data-key"))!);
      await seat.click();
    }
    await poll(() => countOf(page, "#selected-seats li")).toBe(2);
    await poll(() => textOf(page, "#hold-button")).toBe("Hold 2 seats");
    await page.click("#hold-button");
    await page.locator("#hold-panel").waitFor();
    await poll(() => textOf(page, "#hold-timer")).toMatch(/^\d+:\d\d$/);
    expect(await page.inputValue("#card-number")).toBe("4242 4242 4242 4242");
    await screenshot(page, "event-hold-desktop");

    // Mid-purchase, the Vercel provider (which served this page) loses its store.
    await cluster.providers.vercel.standIns["redis-server"]!.stop();
    try {
      await page.click("#pay-button");
      await page.locator("#tickets-panel").waitFor({ timeout: 60_000 });
      await poll(() => countOf(page, "#purchase-tickets .ticket")).toBe(2);
      await poll(() => countOf(page, "#purchase-tickets svg.qr")).toBe(2);
      await screenshot(page, "event-tickets-desktop");

      const status = await (await context()).newPage();
      await status.goto(url("cloudflare", "/status"));
      await poll(() => attrOf(status, "tr[data-provider=vercel]", "data-store-ok")).toBe("false");
      await poll(() => textOf(status, "#quorum")).toContain("Quorum available");
      await screenshot(status, "status-store-down-desktop");
    } finally {
      await cluster.providers.vercel.standIns["redis-server"]!.start();
    }

    await page.goto(url("vercel", "/me/tickets"));
    await ready(page);
    await poll(() => countOf(page, "#tickets .ticket")).toBe(2);
    await poll(() => countOf(page, "#orders li")).toBe(1);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click("#export-button"),
    ]);
    expect(download.suggestedFilename()).toBe("tessera-tickets.json");
    const file = JSON.parse(await readFile((await download.path())!, "utf8")) as {
      format?: string;
      tickets?: unknown[];
    };
    expect(file.tickets).toHaveLength(2);
    await screenshot(page, "tickets-bought-desktop");
    buyerPage = page;
  });

  it("another browser sees those seats as taken", async () => {
    const page = await (await context()).newPage();
    await page.goto(url("cloudflare", `/events/${eventId}`));
    await page.locator("#seatmap[data-loaded=true]").waitFor();
    for (const key of boughtSeats) {
      const seat = `#seatmap g.seat[data-key="${key}"]`;
      await poll(() => attrOf(page, seat, "data-state")).toBe("sold");
      expect(await attrOf(page, seat, "aria-disabled")).toBe("true");
      expect(await attrOf(page, seat, "aria-label")).toMatch(/sold$/);
    }
    // Taken seats cannot be chosen.
    await page.locator(`#seatmap g.seat[data-key="${boughtSeats[0]}"]`).click({ force: true });
    expect(await countOf(page, "#selected-seats li.empty")).toBe(1);
  });

  it("the theater's dashboard counts the sale, refunds it, and downloads a backup", async () => {
    const page = await (await context()).newPage();
    await theaterSignIn(page, "cloudflare");
    await page.goto(url("cloudflare", `/theater/events/${eventId}`));
    await ready(page);
    await poll(() => textOf(page, "#dash-sold")).toBe("2");
    expect(await attrOf(page, "#dash-bar svg", "aria-label")).toMatch(/^2 sold/);
    expect(await countOf(page, "#dash-proceeds tr")).toBeGreaterThan(0);
    await screenshot(page, "theater-dashboard-desktop");

    // One seat first: the order keeps the other.
    const seatRefund = page.locator("#orders-body button[data-seat]");
    await poll(() => seatRefund.count()).toBe(2);
    await seatRefund.first().click(); // arms
    await seatRefund.first().click(); // refunds that seat
    await poll(() => textOf(page, "#orders-notice")).toMatch(/^Seat .* refunded/);
    await poll(() => textOf(page, "#dash-sold")).toBe("1");
    await poll(() => seatRefund.count()).toBe(0);

    const refund = page.locator("#orders-body button[data-order]");
    await poll(() => refund.count()).toBe(1);
    await refund.click(); // arms
    await refund.click(); // refunds
    await poll(() => textOf(page, "#orders-notice")).toContain("Order");
    await poll(() => textOf(page, "#dash-sold")).toBe("0");

    // The buyer's tickets now read revoked, without a code to show at the door.
    await buyerPage.goto(url("vercel", "/me/tickets"));
    await ready(buyerPage);
    await poll(() => countOf(buyerPage, "#tickets .ticket.revoked")).toBe(2);
    expect(await countOf(buyerPage, "#tickets svg.qr")).toBe(0);

    await page.goto(url("cloudflare", "/theater"));
    await ready(page);
    await poll(() => page.getByRole("link", { name: EVENT_TITLE }).count()).toBe(1);
    const [backup] = await Promise.all([
      page.waitForEvent("download"),
      page.click("#backup-button"),
    ]);
    const body = JSON.parse(await readFile((await backup.path())!, "utf8")) as { format?: string };
    expect(body.format).toBe("tessera.backup");
  });

  it("the seat map is one tab stop, moves with arrow keys and toggles with Enter/Space", async () => {
    const page = await (await context()).newPage();
    await page.goto(url("aws", `/events/${eventId}`));
    await page.locator("#seatmap[data-loaded=true]").waitFor();
    expect(await countOf(page, '#seatmap g.seat[tabindex="0"]')).toBe(1);

    // Tab from the top of the page: skip link, navigation, sign-in, zoom controls, then the map.
    const order: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press("Tab");
      const what = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el) return "none";
        if (el.classList.contains("seat")) return "seat";
        return (
          el.id ||
          (el.tagName === "A" || el.tagName === "BUTTON"
            ? el.textContent?.trim()
            : `${el.tagName}.${el.getAttribute("class")}`)
        );
      });
      order.push(what);
      if (what === "seat") break;
    }
    expect(order).toEqual([
      "Skip to content",
      "Tessera",
      "Events",
      "My tickets",
      "Theater",
      "Status",
      "sign-in",
      "Zoom out",
      "Zoom in",
      "seat",
    ]);
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as SVGGElement;
        const m = /translate\(([-\d.]+) ([-\d.]+)\)/.exec(el.getAttribute("transform") ?? "");
        return {
          key: el.getAttribute("data-key"),
          x: Number(m?.[1]),
          y: Number(m?.[2]),
          pressed: el.getAttribute("aria-pressed"),
          label: el.getAttribute("aria-label"),
        };
      });
    const start = await focused();
    expect(start.label).toMatch(/^Parkett, Reihe 1, Platz \d+, Parkett, €25\.00, available$/);
    await page.keyboard.press("ArrowRight");
    const right = await focused();
    expect(right.key).not.toBe(start.key);
    expect(right.x).toBeGreaterThan(start.x);
    expect(right.y).toBe(start.y);
    await page.keyboard.press("ArrowDown");
    const down = await focused();
    expect(down.y).toBeGreaterThan(right.y);
    await page.keyboard.press("ArrowUp");
    expect((await focused()).key).toBe(right.key);

    await page.keyboard.press("Enter");
    expect((await focused()).pressed).toBe("true");
    await poll(() => countOf(page, "#selected-seats li:not(.empty)")).toBe(1);
    await page.keyboard.press(" ");
    expect((await focused()).pressed).toBe("false");
    await page.keyboard.press("Enter");

    // Leaving the map: Tab goes on to the selection panel, not through every seat.
    await page.keyboard.press("Tab");
    const after = await page.evaluate(
      () => document.activeElement?.closest("#choose-panel") !== null,
    );
    expect(after).toBe(true);
    // Shift+Tab comes back to the seat that was last focused.
    await page.keyboard.press("Shift+Tab");
    expect((await focused()).key).toBe(right.key);
  });

  it("main pages pass axe-core's WCAG 2 A/AA rules", async () => {
    const ctx = await context(DESKTOP, { bypassCSP: true });
    const page = await ctx.newPage();
    const pages: [string, string, string][] = [
      ["home", "/", "#events li"],
      ["event", `/events/${eventId}`, "#seatmap[data-loaded=true]"],
      ["tickets", "/me/tickets", "#tickets"],
      ["theater", "/theater", "#theater-signin"],
      ["status", "/status", "#status-rows tr"],
    ];
    const found: Record<string, unknown> = {};
    for (const [name, path, selector] of pages) {
      await page.goto(url("vercel", path));
      await ready(page);
      await page.locator(selector).first().waitFor();
      const violations = await axe(page);
      if (violations.length > 0) found[name] = violations;
    }
    expect(found).toEqual({});
  });

  it("pages fit a phone screen (390 px) and screenshots are saved at both widths", async () => {
    const shots: [string, string, string][] = [
      ["home", "/", "#events li"],
      ["event", `/events/${eventId}`, "#seatmap[data-loaded=true]"],
      ["tickets", "/me/tickets", "#tickets[aria-busy=false]"],
      ["theater", "/theater", "#theater-signin"],
      ["status", "/status", "#status-rows tr"],
    ];
    for (const [viewport, suffix] of [
      [PHONE, "phone"],
      [DESKTOP, "desktop"],
    ] as const) {
      const page = await (await context(viewport)).newPage();
      await page.goto(url("vercel", "/me/tickets"));
      await ready(page);
      await buyerSignIn(page, "bob");
      for (const [name, path, selector] of shots) {
        await page.goto(url("vercel", path));
        await ready(page);
        await page.locator(selector).first().waitFor();
        if (suffix === "phone") {
          // Nothing wider than the screen except inside scrollable frames (the zoomed seat map).
          const overflow = await page.evaluate(
            () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
          );
          expect(overflow, `${name} overflows at phone width`).toBeLessThanOrEqual(1);
        }
        await screenshot(page, `${name}-${suffix}`);
      }
      if (suffix === "phone") {
        // The seat map is usable by touch at phone width.
        await page.goto(url("vercel", `/events/${eventId}`));
        await page.locator("#seatmap[data-loaded=true]").waitFor();
        const seat = page.locator("#seatmap g.seat[data-state=available]").first();
        await seat.tap();
        await poll(() => seat.getAttribute("aria-pressed")).toBe("true");
        const box = await seat.boundingBox();
        expect(box?.width ?? 0).toBeGreaterThan(8);
      }
    }
  });

  it("the theater cancels the event from its page: two clicks, and sales stop for good", async () => {
    const page = await (await context()).newPage();
    await theaterSignIn(page, "aws");
    await page.goto(url("aws", `/theater/events/${eventId}`));
    await ready(page);
    const cancel = page.locator("#cancel-event");
    await poll(() => cancel.isEnabled()).toBe(true);
    await cancel.click(); // arms
    expect(await textOf(page, "#cancel-event")).toContain("Confirm");
    await cancel.click(); // cancels
    await poll(() => textOf(page, "#manage-notice")).toContain("Event cancelled");
    await poll(() => textOf(page, "#manage-meta .badge")).toBe("cancelled");
    expect(await cancel.isDisabled()).toBe(true);
    expect(await page.locator("#open-sales").isDisabled()).toBe(true);
  });
});
