import { api, newIdempotencyKey } from "../api.ts";
import { byId, h, replace } from "../dom.ts";
import { type PlanLike, SeatMap } from "../seatmap.ts";
import { busy, clearNotice, showError, showNotice } from "../ui.ts";
import { theaterGate } from "./theater-common.ts";
import type { PlanBasics } from "./theater-home.ts";

/**
 * `/theater/plans/new`: import a seating plan (Tessera's format or a pretix export) and preview it;
 * `/theater/plans/{id}`: preview a stored one.
 */

export async function showPlan(planId: string): Promise<void> {
  const plan = await api<PlanLike & { id: string; name: string }>(
    `/v1/manage/plans/${encodeURIComponent(planId)}`,
    { auth: "theater" },
  );
  const preview = byId("plan-preview");
  preview.hidden = false;
  const seats = plan.sections.reduce(
    (n, s) => n + s.rows.reduce((m, r) => m + r.seats.length, 0),
    0,
  );
  byId("plan-name").textContent = plan.name;
  replace(
    byId("plan-facts"),
    h(
      "li",
      {},
      `${seats} numbered seats in ${plan.sections.length} section${plan.sections.length === 1 ? "" : "s"}`,
    ),
    plan.categories.map((c) => h("li", {}, `Category ${c.name} (${c.id})`)),
  );
  new SeatMap(plan, { selectable: false }).mount(byId("plan-map"));
  const next = byId<HTMLAnchorElement>("plan-new-event");
  next.href = `/theater/events/new?plan=${encodeURIComponent(plan.id)}`;
}

export async function theaterPlanPage(planId: string | undefined): Promise<void> {
  await theaterGate();
  const notice = byId("plan-notice");
  if (planId) {
    byId("plan-import").hidden = true;
    try {
      await showPlan(planId);
    } catch (e) {
      showError(notice, e);
    }
    return;
  }
  const form = byId<HTMLFormElement>("plan-form");
  byId<HTMLInputElement>("plan-file").addEventListener("change", async (ev) => {
    const file = (ev.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    const text = await file.text();
    byId<HTMLTextAreaElement>("plan-text").value = text;
    // A pretix export has "zones"; guess the format so the usual upload is one click.
    try {
      const doc = JSON.parse(text) as Record<string, unknown>;
      const pretix = Array.isArray(doc.zones);
      byId<HTMLInputElement>(pretix ? "format-pretix" : "format-tessera").checked = true;
    } catch {
      // not JSON: the server will say so
    }
  });
  // One key per distinct upload, so a retried click replays instead of storing the plan twice.
  let pending: { body: string; key: string } | undefined;
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]")!;
    void busy(button, async () => {
      clearNotice(notice);
      const text = byId<HTMLTextAreaElement>("plan-text").value;
      let plan: unknown;
      try {
        plan = JSON.parse(text);
      } catch {
        showError(notice, new Error("the plan is not valid JSON"));
        return;
      }
      const format = (new FormData(form).get("format") as string | null) ?? "tessera";
      const body = JSON.stringify({ format, plan });
      if (pending?.body !== body) pending = { body, key: newIdempotencyKey() };
      try {
        const meta = await api<PlanBasics>("/v1/manage/plans", {
          method: "POST",
          auth: "theater",
          idempotencyKey: pending.key,
          json: { format, plan },
        });
        showNotice(notice, `Imported “${meta.name}” with ${meta.seatCount} places.`);
        history.replaceState(null, "", `/theater/plans/${encodeURIComponent(meta.id)}`);
        await showPlan(meta.id);
      } catch (e) {
        showError(notice, e);
      }
    });
  });
}
