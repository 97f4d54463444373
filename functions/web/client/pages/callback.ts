import { completeSignIn } from "../buyer-auth.ts";
import { byId } from "../dom.ts";
import { showError } from "../ui.ts";

/** `/signin/callback`: the identity provider sends the browser back here with a code. */
export async function callbackPage(): Promise<void> {
  try {
    location.replace(await completeSignIn());
  } catch (e) {
    showError(byId("callback-notice"), e);
  }
}
