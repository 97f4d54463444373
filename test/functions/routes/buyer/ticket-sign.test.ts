import { beforeAll, describe, expect, it } from "vitest";
import {
  requestTicketSignatures,
  TICKET_SIGN_PATH,
  type TicketSignBody,
} from "../../../../functions/peers/ticket-sign-client.ts";
import { BuyerIds } from "../../../../functions/services/buyer-id.ts";
import { verifyTicket } from "../../../../shared/tickets/verify.ts";
import { type MemoryCluster, startSeededMemoryCluster } from "../../../support/memory-cluster.ts";
import type { Seeded } from "../../../support/seed.ts";
import { buySeats } from "./helpers.ts";

let mc: MemoryCluster;
let ev: Seeded;
let holdId: string;
let payload: string;
let coordinatorSig: { protected: string; signature: string };

beforeAll(async () => {
  ({ mc, ev } = await startSeededMemoryCluster());
  const bought = await buySeats(mc, await mc.tokenFor("alice"), ev.eventId, [ev.seats[0]]);
  holdId = bought.holdId;
  payload = bought.body.tickets[0].ticket.payload;
  coordinatorSig = bought.body.tickets[0].ticket.signatures[0];
});

const buyerIdsOf = (m: MemoryCluster) => {
  const env = m.tc.settingsFor("aws");
  return new BuyerIds(env.TESSERA_BUYER_ID_KEY, env.TESSERA_OIDC_ISSUER);
};

/** Writes a hold record straight into one provider's store, as an accepted value. */
async function putHold(p: "aws" | "vercel", id: string, value: unknown) {
  mc.acceptors[p].records.set(`hold/${id}`, {
    key: `hold/${id}`,
    promised: "",
    accepted: "0000000000000001.test",
    value: JSON.stringify(value),
  });
}

const ask = (body: TicketSignBody, key = mc.tc.keys.cloudflare) =>
  requestTicketSignatures(
    {
      to: "aws",
      url: mc.tc.cluster.providers.aws.url,
      key,
      now: () => mc.clock.ms,
      fetch: mc.fetchVia("cloudflare"),
    },
    body,
  );

describe("internal ticket signing endpoint", () => {
  it("signs the tickets it derives from the committed order", async () => {
    const r = await ask({ holdId, holder: "alice" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    // The peer's signature is over the very payload the coordinator derived on its own.
    const ticket = { payload, signatures: [coordinatorSig, r.signatures[0]!] };
    expect(await verifyTicket(ticket, mc.tc.cluster)).toMatchObject({ valid: true });
  });

  it("refuses another holder (422), and sales or orders it does not see (409)", async () => {
    expect(await ask({ holdId, holder: "bob" })).toMatchObject({ ok: false, status: 422 });
    expect(await ask({ holdId: "h9", holder: "alice" })).toMatchObject({ ok: false, status: 409 });
    await putHold("aws", "h-no-order", {
      state: "sold",
      seats: [`seat/${ev.eventId}/${ev.seats[1]?.sectionId}/${ev.seats[1]?.seatId}`],
      expiresAtMs: 0,
      caller: await buyerIdsOf(mc).segment("alice"),
      hash: "x",
      orderId: "o-never-written",
      confirm: { key: "idem/x/y", hash: "z" },
    });
    expect(await ask({ holdId: "h-no-order", holder: "alice" })).toMatchObject({
      ok: false,
      status: 409,
    });
  });

  it("refuses a sold hold whose order names another hold or other seats (422)", async () => {
    // The genuine sale's record, copied under another hold id with another seat.
    const sold = JSON.parse(mc.acceptors.aws.records.get(`hold/${holdId}`)?.value ?? "{}");
    await putHold("aws", "h-other-seats", {
      ...sold,
      seats: [`seat/${ev.eventId}/${ev.seats[2]?.sectionId}/${ev.seats[2]?.seatId}`],
    });
    expect(await ask({ holdId: "h-other-seats", holder: "alice" })).toMatchObject({
      ok: false,
      status: 422,
    });
  });

  it("refuses a sold record whose order is malformed, another order, or another theater's (422)", async () => {
    // A coordinator writes the sold record, order included: the peer trusts none of it blindly.
    const sold = JSON.parse(mc.acceptors.aws.records.get(`hold/${holdId}`)?.value ?? "{}");
    expect(sold.order).toMatchObject({ id: sold.orderId, holdId });
    const variants: Record<string, unknown> = {
      "h-bad-order": { ...sold, order: { ...sold.order, seats: "all of them" } },
      "h-other-order": { ...sold, order: { ...sold.order, id: "o-another" } },
      "h-other-theater": { ...sold, order: { ...sold.order, theaterId: "th-else" } },
    };
    for (const [id, value] of Object.entries(variants)) {
      await putHold("aws", id, {
        ...(value as object),
        order: { ...(value as { order: object }).order, holdId: id },
      });
      const r = await ask({ holdId: id, holder: "alice" });
      expect(r, id).toMatchObject({ ok: false, status: 422 });
    }
  });

  it("refuses unsigned calls, calls signed with its own key (401), and the legacy body (400)", async () => {
    const r = await mc.request("aws", TICKET_SIGN_PATH, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ holdId, holder: "alice" }),
    });
    expect(r.status).toBe(401);
    const self = await ask({ holdId, holder: "alice" }, mc.tc.keys.aws);
    expect(self).toMatchObject({ ok: false, status: 401 });
    const legacy = await ask({ holdId, items: [] } as unknown as TicketSignBody);
    expect(legacy).toMatchObject({ ok: false, status: 400 });
  });
});
