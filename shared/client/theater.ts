import { createTheaterToken } from "../auth/theater-token.ts";
import type { PrivateJwk } from "../config.ts";
import type { Credentials } from "./transport.ts";

/**
 * Theatre credentials for the client: a fresh management token per call, bound to that call's
 * method and path as the API requires (docs/identity.md).
 */
export function theaterCredentials(o: {
  license: string;
  theaterKey: PrivateJwk;
  /** Clock in ms; defaults to Date.now. */
  now?: () => number;
}): Credentials {
  return async ({ method, path }) =>
    `Tessera-Theater ${await createTheaterToken({
      license: o.license,
      theaterKey: o.theaterKey,
      method,
      path,
      now: (o.now ?? Date.now)(),
    })}`;
}
