import type { WebConfig } from "../config-types.ts";

let cached: WebConfig | undefined;

/** The cluster configuration the server inlined into the page (see functions/web/layout.tsx). */
export function config(): WebConfig {
  if (cached) return cached;
  const el = document.getElementById("tessera-config");
  if (!el?.textContent) throw new Error("page has no #tessera-config");
  cached = JSON.parse(el.textContent) as WebConfig;
  return cached;
}
