import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { expect } from "vitest";

/**
 * Chromium for the browser tests: Debian's /usr/bin/chromium (never a downloaded build), headless,
 * with every background network feature off so a test run talks to nothing but the local cluster.
 */

export const CHROMIUM_PATH = process.env.TESSERA_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), "screenshots");

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium`);
  }
  return await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

export async function newContext(
  browser: Browser,
  viewport: { width: number; height: number } = DESKTOP,
  extra: { bypassCSP?: boolean } = {},
): Promise<BrowserContext> {
  const phone = viewport.width < 600;
  const ctx = await browser.newContext({
    viewport,
    ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
    acceptDownloads: true,
    locale: "en-GB",
    timezoneId: "Europe/Vienna",
    ...extra,
  });
  ctx.setDefaultTimeout(20_000);
  return ctx;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Waits until the page script finished its first render (client/main.ts sets data-ready). */
export async function ready(page: Page): Promise<void> {
  await page.waitForSelector("body[data-ready=true]", { state: "attached" });
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * axe-core's WCAG 2 A/AA rules on the page as it is now. The script is evaluated through the
 * DevTools protocol, which the page's CSP (script-src 'self') does not govern.
 */
export async function axe(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await readFile(require.resolve("axe-core/axe.min.js"), "utf8");
  await page.evaluate(axeSource);
  return await page.evaluate(async () => {
    const w = window as unknown as {
      axe: {
        run(ctx: Document, opts: unknown): Promise<{ violations: AxeViolation[] }>;
      };
    };
    const r = await w.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] },
      resultTypes: ["violations"],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes
        .slice(0, 5)
        .map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
}

/** Retries `fn` until the assertion holds (vitest has no Playwright matchers). */
export const poll = <T>(fn: () => Promise<T> | T, timeout = 20_000) =>
  expect.poll(fn, { timeout, interval: 100 });

/** Trimmed text of the first match, or null; never waits (for use inside poll). */
export const textOf = (page: Page, selector: string) =>
  page.evaluate((s) => document.querySelector(s)?.textContent?.trim() ?? null, selector);

export const attrOf = (page: Page, selector: string, name: string) =>
  page.evaluate(([s, n]) => document.querySelector(s!)?.getAttribute(n!) ?? null, [selector, name]);

export const countOf = (page: Page, selector: string) =>
  page.evaluate((s) => document.querySelectorAll(s).length, selector);
