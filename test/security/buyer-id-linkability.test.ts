import { beforeAll, describe, expect, it } from "vitest";
import { BuyerIds } from "../../functions/services/buyer-id.ts";
import { PROVIDERS } from "../../shared/config.ts";
import { toBase64Url } from "../../shared/crypto/base64.ts";
import type { TicketClaims } from "../../shared/tickets/claims.ts";
import { buySeats } from "../functions/routes/buyer/helpers.ts";
import { sealedAuditLogs } from "../support/audit.ts";
import { type MemoryCluster, startSeededMemoryCluster } from "../support/memory-cluster.ts";

/**
 * Threats: (1) anyone reading the public audit log guesses a buyer id ("alice", an e-mail-like
 * subject) and links every hold, order and ticket key of that buyer; (2) two identity providers'
 * users with the same `sub` are taken for one person, because a ticket names its holder by the
 * bare subject.
 */
let mc: MemoryCluster;
let claims: TicketClaims;
const auditKeys: string[] = [];

/** The buyer segment as it was: an unkeyed SHA-256 of the subject, computable by anyone. */
async function guessableSegment(sub: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sub));
  return `b_${toBase64Url(new Uint8Array(d)).slice(0, 40)}`;
}

beforeAll(async () => {
  const seeded = await startSeededMemoryCluster();
  mc = seeded.mc;
  const { body } = await buySeats(mc, await mc.tokenFor("alice"), seeded.ev.eventId, [
    seeded.ev.seats[0],
  ]);
  claims = JSON.parse(
    Buffer.from(body.tickets[0].ticket.payload as string, "base64url").toString("utf8"),
  );
  const sealed = await sealedAuditLogs(mc);
  for (const p of PROVIDERS) auditKeys.push(...sealed[p].entries.map((e) => e.key));
});

describe("buyer ids in public records", () => {
  it("the audit log carries buyer-scoped keys, but not under a guessable hash", async () => {
    expect(auditKeys.some((k) => k.startsWith("buyer/"))).toBe(true);
    const guess = await guessableSegment("alice");
    expect(auditKeys.filter((k) => k.includes(guess))).toEqual([]);
  });

  it("a ticket names its holder's identity provider as well as the subject", async () => {
    expect(claims.hld).toBe("alice");
    expect(claims.hiss).toBe(mc.tc.settingsFor("aws").TESSERA_OIDC_ISSUER);
  });

  it("two identity providers' users with one subject are two buyers", async () => {
    const env = mc.tc.settingsFor("aws");
    const ids = new BuyerIds(env.TESSERA_BUYER_ID_KEY, env.TESSERA_OIDC_ISSUER);
    expect(await ids.segment("alice")).not.toBe(
      await ids.segment("alice", "https://another-idp.example"),
    );
    // And a cluster with another key files the same buyer under an unrelated segment.
    const other = new BuyerIds(`${"A".repeat(42)}Q`, env.TESSERA_OIDC_ISSUER);
    expect(await other.segment("alice")).not.toBe(await ids.segment("alice"));
  });
});
