/** @jsxImportSource hono/jsx */

import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { APP_CSS_HASH, APP_JS_HASH } from "./assets.generated.ts";
import type { WebConfig } from "./config-types.ts";

export type Section = "events" | "tickets" | "theater" | "status";

export interface LayoutProps {
  title: string;
  /** Which page script runs (client/main.ts). */
  page: string;
  /** Event or plan id the page is about. */
  id?: string;
  section?: Section;
  config: WebConfig;
  children?: Child;
}

/** JSON inside <script>: "<" escaped so no value can close the element early. */
const scriptJson = (v: unknown) => raw(JSON.stringify(v).replaceAll("<", "\\u003c"));

const NAV: [Section, string, string][] = [
  ["events", "/", "Events"],
  ["tickets", "/me/tickets", "My tickets"],
  ["theater", "/theater", "Theater"],
  ["status", "/status", "Status"],
];

export function Layout(p: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${p.title} · Tessera`}</title>
        <link rel="stylesheet" href={`/web/app.${APP_CSS_HASH}.css`} />
        <script type="application/json" id="tessera-config">
          {scriptJson(p.config)}
        </script>
        <script defer src={`/web/app.${APP_JS_HASH}.js`} />
      </head>
      <body data-page={p.page} data-id={p.id ?? ""}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="site">
          <a class="brand" href="/">
            Tessera
          </a>
          <nav aria-label="Main">
            <ul>
              {NAV.map(([key, href, label]) => (
                <li>
                  <a href={href} aria-current={p.section === key ? "page" : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          {/* Buyer sign-in; theater pages have their own (license and key). */}
          {p.section === "theater" ? null : <div id="auth-slot" />}
        </header>
        <main id="main" tabindex={-1}>
          {p.children}
        </main>
        <div id="live" class="sr-only" role="status" aria-live="polite" />
        <footer class="site">
          <p>
            Served by {p.config.provider} · cluster {p.config.clusterId} · last API answer from{" "}
            <span id="api-via">{p.config.provider}</span>
          </p>
        </footer>
      </body>
    </html>
  );
}

/** For pages that cannot work without their script. */
export const NeedsScript = () => (
  <noscript>
    <p class="notice error">This page needs JavaScript to talk to the ticketing API.</p>
  </noscript>
);
