import { api, apiOk } from "../api.ts";
import { byId, download, formatDateTime, h, replace } from "../dom.ts";
import { busy, showError, showNotice, statusBadge } from "../ui.ts";
import { theaterGate } from "./theater-common.ts";

/** `/theater`: the theater's events and plans, and the backup download. */

interface Page<T> {
  items: T[];
  nextCursor?: string;
}
interface ManagedEvent {
  id: string;
  title: string;
  startsAt: string;
  status: string;
}
/** What the theater pages read of a plan (from the plan list, an upload's answer or the full plan). */
export interface PlanBasics {
  id: string;
  name: string;
  seatCount: number;
  categories: { id: string; name: string; color: string }[];
}

export async function theaterHomePage(): Promise<void> {
  const session = await theaterGate();
  const notice = byId("theater-notice");
  const backup = byId<HTMLButtonElement>("backup-button");
  backup.addEventListener("click", () =>
    busy(backup, async () => {
      try {
        const res = await apiOk("/v1/manage/backup", { auth: "theater" });
        const day = new Date().toISOString().slice(0, 10);
        download(await res.blob(), `tessera-backup-${session.theaterId}-${day}.json`);
        showNotice(notice, "Backup downloaded.");
      } catch (e) {
        showError(notice, e);
      }
    }),
  );
  try {
    const [events, plans] = await Promise.all([
      api<Page<ManagedEvent>>("/v1/manage/events?limit=100", { auth: "theater" }),
      api<Page<PlanBasics>>("/v1/manage/plans?limit=100", { auth: "theater" }),
    ]);
    replace(
      byId("theater-events"),
      events.items.length === 0
        ? h("tr", {}, h("td", { colspan: "3" }, "No events yet."))
        : events.items
            .sort((a, b) => a.startsAt.localeCompare(b.startsAt))
            .map((e) =>
              h(
                "tr",
                {},
                h(
                  "th",
                  { scope: "row" },
                  h("a", { href: `/theater/events/${encodeURIComponent(e.id)}` }, e.title),
                ),
                h("td", {}, formatDateTime(e.startsAt)),
                h("td", {}, statusBadge(e.status)),
              ),
            ),
    );
    replace(
      byId("theater-plans"),
      plans.items.length === 0
        ? h("li", {}, "No seating plans yet.")
        : plans.items.map((p) =>
            h(
              "li",
              {},
              h("a", { href: `/theater/plans/${encodeURIComponent(p.id)}` }, p.name),
              ` · ${p.seatCount} places · `,
              h(
                "a",
                { href: `/theater/events/new?plan=${encodeURIComponent(p.id)}` },
                `New event in ${p.name}`,
              ),
            ),
          ),
    );
  } catch (e) {
    showError(notice, e);
  }
}
