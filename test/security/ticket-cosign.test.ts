import { beforeAll, describe, expect, it } from "vitest";
import { peerCall } from "../../functions/peers/peer-call.ts";
import { TICKET_SIGN_PATH } from "../../functions/peers/ticket-sign-client.ts";
import type { ProviderId } from "../../shared/config.ts";
import type { TicketClaims } from "../../shared/tickets/claims.ts";
import {
  assembleTicket,
  signTicketClaims,
  type TicketSignature,
} from "../../shared/tickets/sign.ts";
import { verifyTicket } from "../../shared/tickets/verify.ts";
import { buySeats } from "../functions/routes/buyer/helpers.ts";
import { type MemoryCluster, startSeededMemoryCluster } from "../support/memory-cluster.ts";
import type { Seeded } from "../support/seed.ts";

/**
 * Threat: one compromised provider (here cloudflare: the attacker holds its signing key and can
 * make signed peer calls) tries to obtain a SECOND provider's signature on ticket claims that no
 * committed order backs, by asking the peer's co-signing endpoint to sign what it sends. A peer
 * must sign only claims it derives itself from the committed sale.
 */

let mc: MemoryCluster;
let ev: Seeded;
let genuine: TicketClaims;
let holdId: string;

beforeAll(async () => {
  ({ mc, ev } = await startSeededMemoryCluster());
  const bought = await buySeats(mc, await mc.tokenFor("alice"), ev.eventId, [ev.seats[0]], {
    hold: "vercel",
    confirm: "vercel",
  });
  holdId = bought.holdId;
  const t = bought.body.tickets[0];
  genuine = JSON.parse(
    new TextDecoder().decode(Buffer.from(t.ticket.payload as string, "base64url")),
  ) as TicketClaims;
});

/** A signed peer call from the compromised provider, with any JSON body it likes. */
function callPeer(to: ProviderId, body: unknown) {
  return peerCall(
    {
      to,
      url: mc.tc.cluster.providers[to].url,
      key: mc.tc.keys.cloudflare,
      now: () => mc.clock.ms,
      fetch: mc.fetchVia("cloudflare"),
    },
    TICKET_SIGN_PATH,
    body,
  );
}

/** What the attacker can assemble: its own signature plus whatever the peer answered. */
async function forge(claims: TicketClaims, to: ProviderId, body: unknown) {
  const own = await signTicketClaims(claims, mc.tc.keys.cloudflare, "cloudflare");
  const res = await callPeer(to, body);
  const sigs: TicketSignature[] = [own];
  if (res.ok) sigs.push(...((res.json as { signatures?: TicketSignature[] }).signatures ?? []));
  return verifyTicket(assembleTicket(claims, sigs), mc.tc.cluster);
}

const forgeries: [string, (c: TicketClaims) => TicketClaims][] = [
  ["a new ticket id for the same seat", (c) => ({ ...c, tid: "tFORGEDforgedFORGEDforg" })],
  ["price 0", (c) => ({ ...c, prc: { ...c.prc, amount: 0 } })],
  ["another theater", (c) => ({ ...c, thr: "someone-else" })],
  ["a VIP category", (c) => ({ ...c, seat: { ...c.seat, category: "VIP" } })],
  ["another label", (c) => ({ ...c, seat: { ...c.seat, label: "Royal box" } })],
  ["another issue time", (c) => ({ ...c, iat: c.iat + 86_400 })],
];

describe("one compromised provider cannot get a second signature on claims no order backs", () => {
  it("the genuine ticket verifies (control)", async () => {
    const body = { holdId, items: [{ seatKey: seatKeyOf(genuine), claims: genuine }] };
    // The legacy request form names its claims; the current one only the sale. Either way the
    // genuine claims must come out valid, or the forgeries below would prove nothing.
    const legacy = await forge(genuine, "aws", body);
    const current = await forge(genuine, "aws", { holdId, holder: genuine.hld });
    expect(legacy.valid || current.valid).toBe(true);
  });

  for (const [what, edit] of forgeries) {
    it(`refuses ${what}`, async () => {
      const forged = edit(genuine);
      for (const to of ["aws", "vercel"] as const) {
        const legacy = await forge(forged, to, {
          holdId,
          items: [{ seatKey: seatKeyOf(forged), claims: forged }],
        });
        expect(legacy.valid, `${to} co-signed ${what} (claims sent by the caller)`).toBe(false);
        const current = await forge(forged, to, { holdId, holder: forged.hld });
        expect(current.valid, `${to} co-signed ${what} (claims derived)`).toBe(false);
      }
    });
  }
});

function seatKeyOf(c: TicketClaims): string {
  return `seat/${c.evt}/${ev.seats[0]?.sectionId}/${c.seat.id}`;
}
