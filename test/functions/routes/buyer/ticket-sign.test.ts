import { beforeAll, describe, expect, it } from "vitest";
import {
  requestTicketSignatures,
  TICKET_SIGN_PATH,
  type TicketSignBody,
} from "../../../../functions/peers/ticket-sign-client.ts";
import { buyerSegment } from "../../../../functions/services/buyer-id.ts";
import type { TicketClaims } from "../../../../shared/tickets/claims.ts";
import { type MemoryCluster, startMemoryCluster } from "../../../support/memory-cluster.ts";

let mc: MemoryCluster;
beforeAll(async () => {
  mc = await startMemoryCluster();
});

const seatKey = "seat/ev1/stalls/s1";
const claims = (over: Partial<TicketClaims> = {}): TicketClaims => ({
  tid: "t1",
  cid: "test-memory",
  evt: "ev1",
  seat: { id: "s1", section: "Stalls", label: "1", category: "Standard" },
  hld: "alice",
  ord: "o1",
  iat: 1_800_000_000,
  thr: "th1",
  prc: { amount: 100, currency: "EUR" },
  ...over,
});

/** Writes a hold record straight into one provider's store, as an accepted value. */
async function putHold(p: "aws" | "vercel", holdId: string, value: unknown) {
  mc.acceptors[p].records.set(`hold/${holdId}`, {
    key: `hold/${holdId}`,
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
  it("signs what its own store shows sold to that order and holder", async () => {
    await putHold("aws", "h1", {
      state: "sold",
      seats: [seatKey],
      expiresAtMs: 0,
      caller: await buyerSegment("alice"),
      hash: "x",
      orderId: "o1",
      confirm: { key: "idem/x/y", hash: "z" },
    });
    const r = await ask({ holdId: "h1", items: [{ seatKey, claims: claims() }] });
    expect(r.ok).toBe(true);
  });

  it("refuses claims its store contradicts (422) and sales it has not seen (409)", async () => {
    const other = await ask({ holdId: "h1", items: [{ seatKey, claims: claims({ ord: "o2" }) }] });
    expect(other).toMatchObject({ ok: false, status: 422 });
    const holder = await ask({
      holdId: "h1",
      items: [{ seatKey, claims: claims({ hld: "bob" }) }],
    });
    expect(holder).toMatchObject({ ok: false, status: 422 });
    const seat = await ask({
      holdId: "h1",
      items: [
        {
          seatKey: "seat/ev1/stalls/s2",
          claims: claims({ seat: { id: "s2", label: "2", category: "c" } }),
        },
      ],
    });
    expect(seat).toMatchObject({ ok: false, status: 422 });
    const unseen = await ask({ holdId: "h9", items: [{ seatKey, claims: claims() }] });
    expect(unseen).toMatchObject({ ok: false, status: 409 });
  });

  it("refuses unsigned calls and calls signed with its own key (401)", async () => {
    const r = await mc.request("aws", TICKET_SIGN_PATH, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ holdId: "h1", items: [{ seatKey, claims: claims() }] }),
    });
    expect(r.status).toBe(401);
    const self = await ask(
      { holdId: "h1", items: [{ seatKey, claims: claims() }] },
      mc.tc.keys.aws,
    );
    expect(self).toMatchObject({ ok: false, status: 401 });
  });
});
