import { messageOf } from "./api.ts";
import { buyerName, signIn, signOut } from "./buyer-auth.ts";
import { h, replace } from "./dom.ts";

/** Pieces every page shares: the sign-in slot in the header and error/notice boxes. */

export function renderAuthSlot(): void {
  const slot = document.getElementById("auth-slot");
  if (!slot) return;
  const name = buyerName();
  if (name) {
    replace(
      slot,
      h("span", { class: "who" }, `Signed in as ${name}`),
      " ",
      h(
        "button",
        {
          type: "button",
          class: "link",
          onclick: () => {
            signOut();
            location.reload();
          },
        },
        "Sign out",
      ),
    );
  } else {
    replace(
      slot,
      h("button", { type: "button", id: "sign-in", onclick: () => void signIn() }, "Sign in"),
    );
  }
}

/** Shows `e` in the box `el` (role=alert, so it is read out at once). */
export function showError(el: HTMLElement, e: unknown): void {
  el.hidden = false;
  el.className = "notice error";
  el.setAttribute("role", "alert");
  el.textContent = messageOf(e);
}

export function showNotice(el: HTMLElement, text: string): void {
  el.hidden = false;
  el.className = "notice";
  el.setAttribute("role", "status");
  el.textContent = text;
}

export function clearNotice(el: HTMLElement): void {
  el.hidden = true;
  el.textContent = "";
}

/** Runs `work` with `button` disabled and marked busy, so a double click cannot send twice. */
export async function busy<T>(button: HTMLButtonElement, work: () => Promise<T>): Promise<T> {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

export const statusBadge = (status: string) =>
  h("span", { class: `badge badge-${status}` }, status.replaceAll("-", " "));
