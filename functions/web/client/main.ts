import { callbackPage } from "./pages/callback.ts";
import { eventPage } from "./pages/event.ts";
import { homePage } from "./pages/home.ts";
import { statusPage } from "./pages/status.ts";
import { theaterEventPage } from "./pages/theater-event.ts";
import { theaterEventNewPage } from "./pages/theater-event-new.ts";
import { theaterHomePage } from "./pages/theater-home.ts";
import { theaterPlanPage } from "./pages/theater-plan.ts";
import { ticketsPage } from "./pages/tickets.ts";
import { renderAuthSlot } from "./ui.ts";

/**
 * The one script of every page. The server marks which page it rendered (`<body data-page>`, plus
 * `data-id` for an event or plan) and this runs that page's code; pages work without it as far as
 * plain HTML can (links, the status report), and say so in a <noscript> where they cannot.
 */
async function main(): Promise<void> {
  renderAuthSlot();
  const { page, id } = document.body.dataset;
  switch (page) {
    case "home":
      return await homePage();
    case "event":
      return await eventPage(id ?? "");
    case "tickets":
      return await ticketsPage();
    case "callback":
      return await callbackPage();
    case "status":
      return statusPage();
    case "theater":
      return await theaterHomePage();
    case "theater-plan":
      return await theaterPlanPage(id || undefined);
    case "theater-event-new":
      return await theaterEventNewPage();
    case "theater-event":
      return await theaterEventPage(id ?? "");
  }
}

void main().finally(() => {
  // Lets tests and assistive tooling know the page's script has finished its first render.
  document.body.dataset.ready = "true";
});
