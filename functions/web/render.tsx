/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import { Layout, type LayoutProps } from "./layout.tsx";
import { CallbackPage, EventPage, HomePage, TicketsPage } from "./pages/buyer.tsx";
import { StatusPage } from "./pages/status.tsx";
import {
  TheaterEventNewPage,
  TheaterEventPage,
  TheaterHomePage,
  TheaterPlanPage,
} from "./pages/theater.tsx";
import type { ClusterStatus } from "./status-types.ts";

/**
 * Every page as a complete HTML document. Kept apart from the routes so functions/routes/web.ts
 * stays plain TypeScript and only this file and the page files need JSX.
 */

export type PageName =
  | "home"
  | "event"
  | "tickets"
  | "callback"
  | "status"
  | "theater"
  | "theater-plan"
  | "theater-event-new"
  | "theater-event";

const doc = async (props: Omit<LayoutProps, "children">, body: Child) =>
  `<!doctype html>${await (<Layout {...props}>{body}</Layout>).toString()}`;

export function renderPage(
  page: PageName,
  props: Omit<LayoutProps, "children" | "page" | "title" | "section">,
  extra: { status?: ClusterStatus } = {},
): Promise<string> {
  const p = { ...props, page };
  switch (page) {
    case "home":
      return doc({ ...p, title: "Events", section: "events" }, <HomePage />);
    case "event":
      return doc(
        { ...p, title: "Event", section: "events" },
        <EventPage {...(props.config.testCard ? { testCard: props.config.testCard } : {})} />,
      );
    case "tickets":
      return doc({ ...p, title: "My tickets", section: "tickets" }, <TicketsPage />);
    case "callback":
      return doc({ ...p, title: "Signing in" }, <CallbackPage />);
    case "status":
      if (!extra.status) throw new Error("status page needs a report");
      return doc({ ...p, title: "Status", section: "status" }, <StatusPage st={extra.status} />);
    case "theater":
      return doc({ ...p, title: "Theater", section: "theater" }, <TheaterHomePage />);
    case "theater-plan":
      return doc({ ...p, title: "Seating plan", section: "theater" }, <TheaterPlanPage />);
    case "theater-event-new":
      return doc({ ...p, title: "New event", section: "theater" }, <TheaterEventNewPage />);
    case "theater-event":
      return doc({ ...p, title: "Manage event", section: "theater" }, <TheaterEventPage />);
  }
}
