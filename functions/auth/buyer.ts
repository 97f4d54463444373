import { createMiddleware } from "hono/factory";
import type { Buyer, BuyerVerifier } from "../../shared/auth/oidc.ts";
import { chargeIdentity } from "../middleware/rate-limit.ts";
import { ProblemError } from "../problem.ts";
import { credentialsFor, quoted } from "./header.ts";

/** Realm named in challenges; one for the whole API. */
export const AUTH_REALM = "tessera";

/**
 * Requires `Authorization: Bearer <OIDC JWT>`. Missing → 401 with a bare Bearer challenge
 * (RFC 6750 §3.1: no error code when no credentials were sent); invalid → 401 with
 * error="invalid_token"; issuer keys unreachable → 503 (the token may be fine).
 */
export function buyerAuth(verifier: BuyerVerifier) {
  return createMiddleware<{ Variables: { buyer: Buyer } }>(async (c, next) => {
    const token = credentialsFor(c.req.header("authorization"), "Bearer");
    if (token === undefined) throw missingBuyer();
    const buyer = await verifyOrThrow(verifier, token);
    chargeIdentity(c, "buyer", buyer.sub);
    c.set("buyer", buyer);
    await next();
  });
}

/**
 * Like buyerAuth but lets anonymous requests through with `buyer` undefined. A token that is sent
 * but bad still gets 401: silently treating it as anonymous would hide an expired session from the
 * client and show it less than it is entitled to see.
 */
export function optionalBuyer(verifier: BuyerVerifier) {
  return createMiddleware<{ Variables: { buyer: Buyer | undefined } }>(async (c, next) => {
    const token = credentialsFor(c.req.header("authorization"), "Bearer");
    const buyer = token === undefined ? undefined : await verifyOrThrow(verifier, token);
    if (buyer) chargeIdentity(c, "buyer", buyer.sub);
    c.set("buyer", buyer);
    await next();
  });
}

async function verifyOrThrow(verifier: BuyerVerifier, token: string): Promise<Buyer> {
  const r = await verifier.verify(token);
  if (r.ok) return r.buyer;
  if (r.unavailable) {
    throw new ProblemError(
      503,
      "unavailable",
      "Service unavailable",
      "the identity provider's keys could not be fetched; retry",
      {},
      { "retry-after": "5" },
    );
  }
  throw new ProblemError(
    401,
    "unauthorized",
    "Unauthorized",
    `buyer token refused: ${r.reason}`,
    { reason: r.reason },
    {
      "www-authenticate": `Bearer realm="${AUTH_REALM}", error="invalid_token", error_description=${quoted(r.reason)}`,
    },
  );
}

function missingBuyer() {
  return new ProblemError(
    401,
    "unauthorized",
    "Unauthorized",
    "this call needs `Authorization: Bearer <token>` from the buyers' identity provider",
    { reason: "missing" },
    { "www-authenticate": `Bearer realm="${AUTH_REALM}"` },
  );
}
