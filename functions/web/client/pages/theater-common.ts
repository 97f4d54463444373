import { byId, h, replace } from "../dom.ts";
import {
  type TheaterSession,
  theaterSession,
  theaterSignIn,
  theaterSignOut,
} from "../theater-auth.ts";
import { busy, showError } from "../ui.ts";

/**
 * Every /theater page starts here: with a theater session it shows the page, otherwise the sign-in
 * form (paste or upload the license and the private key). Returns the session once there is one.
 */
export async function theaterGate(): Promise<TheaterSession> {
  const session = theaterSession();
  const app = byId("theater-app");
  const gate = byId("theater-signin");
  if (session) {
    gate.hidden = true;
    app.hidden = false;
    replace(
      byId("theater-who"),
      `Signed in as ${session.name} (${session.theaterId}) · `,
      h(
        "button",
        {
          type: "button",
          class: "link",
          onclick: () => {
            theaterSignOut();
            location.reload();
          },
        },
        "Sign out",
      ),
    );
    return session;
  }
  app.hidden = true;
  gate.hidden = false;
  const form = byId<HTMLFormElement>("theater-signin-form");
  for (const [fileId, textId] of [
    ["license-file", "license-text"],
    ["key-file", "key-text"],
  ] as const) {
    byId<HTMLInputElement>(fileId).addEventListener("change", async (ev) => {
      const file = (ev.currentTarget as HTMLInputElement).files?.[0];
      if (file) byId<HTMLTextAreaElement>(textId).value = (await file.text()).trim();
    });
  }
  document.body.dataset.ready = "true";
  // Never resolves: the page reloads once signed in, and the rest of it must not run before.
  return await new Promise<TheaterSession>(() => {
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const button = form.querySelector<HTMLButtonElement>("button[type=submit]")!;
      void busy(button, async () => {
        try {
          await theaterSignIn(
            byId<HTMLTextAreaElement>("license-text").value,
            byId<HTMLTextAreaElement>("key-text").value,
          );
          location.reload();
        } catch (e) {
          showError(byId("theater-signin-notice"), e);
        }
      });
    });
  });
}
