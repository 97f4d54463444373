import { api, apiOk } from "../api.ts";
import { buyerToken, signIn } from "../buyer-auth.ts";
import { byId, download, h, replace } from "../dom.ts";
import { formatMoney, type Money } from "../money.ts";
import { type TicketView, ticketCard } from "../tickets-view.ts";
import { busy, showError, showNotice } from "../ui.ts";

/** `/me/tickets`: every ticket with its QR code, the orders, and the signed export download. */

interface Page<T> {
  items: T[];
  nextCursor?: string;
}
interface Order {
  id: string;
  eventId: string;
  status: string;
  total: Money;
  createdAt: string;
}
/** Tickets a person can reasonably scroll through; the export always carries all of them. */
const PAGES_MAX = 10;

async function all<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < PAGES_MAX; i++) {
    const qs = new URLSearchParams({ limit: "100" });
    if (cursor) qs.set("cursor", cursor);
    const page = await api<Page<T>>(`${path}?${qs}`, { auth: "buyer" });
    out.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return out;
}

export async function ticketsPage(): Promise<void> {
  const notice = byId("tickets-notice");
  const list = byId("tickets");
  const exportButton = byId<HTMLButtonElement>("export-button");
  if (!buyerToken()) {
    exportButton.hidden = true;
    replace(
      list,
      h("p", {}, "Sign in to see your tickets."),
      h("button", { type: "button", onclick: () => void signIn() }, "Sign in"),
    );
    return;
  }
  exportButton.addEventListener("click", () =>
    busy(exportButton, async () => {
      try {
        const res = await apiOk("/v1/me/tickets/export", { auth: "buyer" });
        download(await res.blob(), "tessera-tickets.json");
        showNotice(
          notice,
          "Export downloaded: verify it offline with `tessera ticket verify-export`.",
        );
      } catch (e) {
        showError(notice, e);
      }
    }),
  );
  try {
    const [tickets, orders] = await Promise.all([
      all<TicketView>("/v1/me/tickets"),
      all<Order>("/v1/me/orders"),
    ]);
    const titles = new Map<string, string>();
    await Promise.all(
      [...new Set(tickets.map((t) => t.eventId))].map(async (id) => {
        try {
          const ev = await api<{ title: string }>(`/v1/events/${encodeURIComponent(id)}`, {
            auth: "buyer",
          });
          titles.set(id, ev.title);
        } catch {
          // an event no longer listed still has valid tickets: show its id
        }
      }),
    );
    const refunded = new Set(orders.filter((o) => o.status === "refunded").map((o) => o.id));
    const valid = tickets.filter((t) => !refunded.has(t.orderId));
    replace(
      list,
      valid.length === 0
        ? h("p", {}, "No tickets yet. ", h("a", { href: "/" }, "Find an event"), ".")
        : valid.map((t) => ticketCard(t, titles.get(t.eventId))),
    );
    replace(
      byId("orders"),
      orders.length === 0
        ? h("li", {}, "No orders yet.")
        : orders.map((o) =>
            h(
              "li",
              {},
              h("span", { class: "mono" }, o.id),
              ` · ${titles.get(o.eventId) ?? o.eventId} · ${formatMoney(o.total)} · ${o.status}`,
            ),
          ),
    );
    list.setAttribute("aria-busy", "false");
  } catch (e) {
    showError(notice, e);
  }
}
