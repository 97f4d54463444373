import { byId } from "../dom.ts";

/**
 * `/status` is rendered on the server (it asks every provider's /health from there, where no CORS
 * applies). To stay fresh the page fetches itself again and swaps in the new report, so there is
 * one renderer, not a server one and a browser one that could disagree.
 */
const REFRESH_MS = 5_000;

export function statusPage(): void {
  const refresh = async () => {
    try {
      const res = await fetch(location.pathname, { cache: "no-store", credentials: "omit" });
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const fresh = doc.getElementById("status-report");
      if (fresh) byId("status-report").replaceWith(document.importNode(fresh, true));
    } catch {
      const at = document.getElementById("checked-at");
      if (at) at.textContent = "this provider did not answer; showing the last report";
    }
  };
  window.setInterval(() => {
    if (document.visibilityState === "visible") void refresh();
  }, REFRESH_MS);
}
