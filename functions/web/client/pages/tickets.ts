import { api, apiOk, endpointCount } from "../api.ts";
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
  seats: unknown[];
}
/** Tickets a person can reasonably scroll through; the export always carries all of them. */
const PAGES_MAX = 10;

async function pages<T>(path: string, start: number): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < PAGES_MAX; i++) {
    const qs = new URLSearchParams({ limit: "100" });
    if (cursor) qs.set("cursor", cursor);
    const page = await api<Page<T>>(`${path}?${qs}`, { auth: "buyer", start });
    out.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return out;
}

/**
 * Every item any provider lists, merged by id. Each provider lists from its own store; one that was
 * down while you bought has not caught up at once, so asking all of them shows everything you own.
 */
async function all<T extends { id: string }>(path: string): Promise<T[]> {
  const lists = await Promise.allSettled(
    Array.from({ length: endpointCount() }, (_, i) => pages<T>(path, i)),
  );
  const byId = new Map<string, T>();
  for (const r of lists) if (r.status === "fulfilled") for (const x of r.value) byId.set(x.id, x);
  if (byId.size === 0 && lists.every((r) => r.status === "rejected")) {
    throw (lists[0] as PromiseRejectedResult).reason;
  }
  return [...byId.values()];
}

/**
 * The signed export from the first provider whose copy lists every ticket this page shows. Each
 * provider builds the export from its own store, and one that was down during a purchase may not
 * have caught up yet; another provider's copy is just as valid (it carries its own signature).
 */
async function completeExport(expected: number): Promise<Blob> {
  let best: { blob: Blob; count: number } | undefined;
  for (let i = 0; i < endpointCount(); i++) {
    const res = await apiOk("/v1/me/tickets/export", { auth: "buyer", start: i });
    const blob = await res.blob();
    const count = ((JSON.parse(await blob.text()) as { tickets?: unknown[] }).tickets ?? []).length;
    if (!best || count > best.count) best = { blob, count };
    if (count >= expected) break;
  }
  return best!.blob;
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
  byId("orders-section").hidden = false;
  let shown = 0;
  exportButton.addEventListener("click", () =>
    busy(exportButton, async () => {
      try {
        download(await completeExport(shown), "tessera-tickets.json");
        showNotice(notice, "Export downloaded: verify it offline with `tessera ticket verify`.");
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
    // A purchase made while a provider was down may still lack tickets: ask for them again.
    const have = new Map<string, number>();
    for (const t of tickets) have.set(t.orderId, (have.get(t.orderId) ?? 0) + 1);
    const missing = orders.filter(
      (o) => o.status === "confirmed" && (have.get(o.id) ?? 0) < o.seats.length,
    );
    await Promise.all(
      missing.map(async (o) => {
        try {
          const r = await api<{ tickets: TicketView[] }>(
            `/v1/me/orders/${encodeURIComponent(o.id)}/tickets`,
            { method: "POST", auth: "buyer" },
          );
          const known = new Set(tickets.map((t) => t.id));
          tickets.push(...r.tickets.filter((t) => !known.has(t.id)));
        } catch {
          // still pending: the order is listed below; the next visit tries again
        }
      }),
    );
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
    shown = tickets.length;
    // Refunded orders' tickets are revoked: listed after the valid ones, marked, without a code.
    const refunded = new Set(orders.filter((o) => o.status === "refunded").map((o) => o.id));
    const isRevoked = (t: TicketView) => t.status === "revoked" || refunded.has(t.orderId);
    const ordered = [
      ...tickets.filter((t) => !isRevoked(t)),
      ...tickets.filter(isRevoked).map((t) => ({ ...t, status: "revoked" as const })),
    ];
    replace(
      list,
      ordered.length === 0
        ? h("p", {}, "No tickets yet. ", h("a", { href: "/" }, "Find an event"), ".")
        : ordered.map((t) => ticketCard(t, titles.get(t.eventId))),
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
