import { api } from "../api.ts";
import { buyerToken } from "../buyer-auth.ts";
import { byId, formatDateTime, h, replace } from "../dom.ts";
import { showError, statusBadge } from "../ui.ts";

/** `/`: upcoming events with a search box (filtering by title as you type). */

interface ListedEvent {
  id: string;
  title: string;
  startsAt: string;
  status: string;
  theaterId?: string;
}
interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** Enough for a season's programme; beyond it the search narrows the list on the server. */
const LIST_PAGES_MAX = 5;
const PAGE_SIZE = 100;

export async function homePage(): Promise<void> {
  const list = byId("events");
  const notice = byId("events-notice");
  const form = byId<HTMLFormElement>("search");
  const input = byId<HTMLInputElement>("q");
  const count = byId("events-count");
  const q0 = new URLSearchParams(location.search).get("q") ?? "";
  input.value = q0;

  let events: ListedEvent[] = [];
  try {
    let cursor: string | undefined;
    for (let i = 0; i < LIST_PAGES_MAX; i++) {
      const qs = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (cursor) qs.set("cursor", cursor);
      const page = await api<Page<ListedEvent>>(`/v1/events?${qs}`, {
        auth: buyerToken() ? "buyer" : "none",
      });
      events.push(...page.items);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
  } catch (e) {
    showError(notice, e);
    list.setAttribute("aria-busy", "false");
    return;
  }
  events = events.sort((a, b) => a.startsAt.localeCompare(b.startsAt));

  const render = () => {
    const q = input.value.trim().toLowerCase();
    const shown = q ? events.filter((e) => e.title.toLowerCase().includes(q)) : events;
    count.textContent =
      shown.length === 0
        ? q
          ? `No events match “${input.value.trim()}”.`
          : "No events yet."
        : `${shown.length} event${shown.length === 1 ? "" : "s"}`;
    replace(
      list,
      shown.map((e) =>
        h(
          "li",
          { class: "event-card" },
          h("h2", {}, h("a", { href: `/events/${encodeURIComponent(e.id)}` }, e.title)),
          h(
            "p",
            {},
            h("time", { datetime: e.startsAt }, formatDateTime(e.startsAt)),
            " ",
            statusBadge(e.status),
          ),
        ),
      ),
    );
    list.setAttribute("aria-busy", "false");
  };
  render();
  input.addEventListener("input", render);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const url = new URL(location.href);
    if (input.value.trim()) url.searchParams.set("q", input.value.trim());
    else url.searchParams.delete("q");
    history.replaceState(null, "", url);
    render();
  });
}
