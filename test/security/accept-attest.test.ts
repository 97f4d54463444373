import { beforeAll, describe, expect, it } from "vitest";
import { withDefaults } from "../../functions/deps.ts";
import { RemoteAcceptor } from "../../functions/peers/remote-acceptor.ts";
import { createServices } from "../../functions/services/index.ts";
import { ticketsFromAttests } from "../../functions/services/tickets.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { decodeProviderHeader } from "../../shared/crypto/jws.ts";
import { holdKey, orderKey } from "../../shared/domain/keys.ts";
import { encodeBallot } from "../../shared/quorum/ballot.ts";
import type { AcceptReply } from "../../shared/quorum/messages.ts";
import { MemoryBlobs } from "../../shared/storage/memory.ts";
import type { TicketClaims } from "../../shared/tickets/claims.ts";
import { signTicketClaims, type Ticket } from "../../shared/tickets/sign.ts";
import { buySeats } from "../functions/routes/buyer/helpers.ts";
import { type MemoryCluster, startSeededMemoryCluster } from "../support/memory-cluster.ts";
import type { Seeded } from "../support/seed.ts";

/**
 * Threat: tickets are signed in the accept replies of the stores that decide a sale
 * (functions/peers/witnessing-acceptor.ts). One compromised provider tries (a) to slip signatures
 * over claims of its choosing into its accept replies, and (b) to get an honest store to sign, in
 * its reply, a sold record it forged.
 */

let mc: MemoryCluster;
let ev: Seeded;
let alice: string;

beforeAll(async () => {
  ({ mc, ev } = await startSeededMemoryCluster());
  alice = await mc.tokenFor("alice");
});

let sent = 0;

/** A signed accept of `value` at `key` on `to`'s store, sent with cloudflare's key. */
async function acceptAt(to: "aws" | "vercel", key: string, value: unknown): Promise<AcceptReply> {
  const remote = new RemoteAcceptor({
    to,
    url: mc.tc.cluster.providers[to].url,
    key: mc.tc.keys.cloudflare,
    now: () => mc.clock.ms,
    fetch: mc.fetchVia("cloudflare"),
  });
  const ballot = encodeBallot({ counter: 900_000_000_000_000 + ++sent, proposer: "attacker" });
  const [reply] = await remote.accept([{ key, ballot, value: JSON.stringify(value) }]);
  if (!reply) throw new Error("no reply");
  return reply;
}

describe("signatures in accept replies", () => {
  it("a compromised store's signatures over other claims are not counted by the coordinator", async () => {
    const bought = await buySeats(mc, alice, ev.eventId, [ev.seats[3]], {
      hold: "cloudflare",
      confirm: "cloudflare",
    });
    const ticket = bought.body.tickets[0].ticket as Ticket;
    const genuine = JSON.parse(Buffer.from(ticket.payload, "base64url").toString()) as TicketClaims;
    const byProvider = (p: ProviderId) =>
      ticket.signatures.find((x) => decodeProviderHeader(x.protected)?.tessera_provider === p);
    const order = JSON.parse(mc.acceptors.aws.records.get(orderKey(genuine.ord))?.value ?? "null");
    // The coordinator's own view, as cloudflare's app has it.
    const s = createServices(
      withDefaults({
        provider: "cloudflare",
        cluster: mc.tc.cluster,
        signingKey: mc.tc.keys.cloudflare,
        settings: mc.tc.settingsFor("cloudflare"),
        acceptor: mc.acceptors.cloudflare,
        blobs: new MemoryBlobs(),
        storeName: "memory",
        now: () => mc.clock.ms,
        fetch: mc.fetchVia("cloudflare"),
      }),
    );
    const seg = await s.buyerIds.segment("alice");
    const key = holdKey(bought.holdId);
    const from = (acceptor: number, sig: unknown) => ({
      acceptor,
      key,
      attest: { signatures: [sig] },
    });
    const signer = ([0, 1, 2] as const).find((a) => byProvider(PROVIDERS[a]!) !== undefined)!;
    const honest = from(signer, byProvider(PROVIDERS[signer]!));
    const other = ([0, 1, 2] as const).find((a) => a !== signer)!;
    // Its own key, over claims of its choosing (price 0, a new ticket id): refused.
    const forgedClaims = { ...genuine, tid: "forged", prc: { ...genuine.prc, amount: 0 } };
    const forged = await signTicketClaims(
      forgedClaims,
      mc.tc.keys[PROVIDERS[other]!],
      PROVIDERS[other]!,
    );
    expect(
      await ticketsFromAttests(s, order, "alice", seg, [honest, from(other, forged)]),
    ).toBeNull();
    // Another provider's genuine signature passed off as its own: refused.
    expect(
      await ticketsFromAttests(s, order, "alice", seg, [
        honest,
        from(other, byProvider(PROVIDERS[signer]!)),
      ]),
    ).toBeNull();
    // Not an array, another hold's key: refused.
    expect(
      await ticketsFromAttests(s, order, "alice", seg, [
        honest,
        { acceptor: other, key, attest: { signatures: "x" } },
      ]),
    ).toBeNull();
    // Control: with a second genuine signature the tickets assemble.
    const second = ([0, 1, 2] as const).find((a) => a !== signer && byProvider(PROVIDERS[a]!))!;
    const ok = await ticketsFromAttests(s, order, "alice", seg, [
      honest,
      from(second, byProvider(PROVIDERS[second]!)),
    ]);
    expect(ok?.tickets).toHaveLength(1);
    expect(ok?.providers).toHaveLength(2);
  });

  it("an honest store signs a genuine sale it accepts, and nothing for a sale record forged or incomplete", async () => {
    const bought = await buySeats(mc, alice, ev.eventId, [ev.seats[4]], {
      hold: "vercel",
      confirm: "vercel",
    });
    const sold = JSON.parse(mc.acceptors.aws.records.get(`hold/${bought.holdId}`)?.value ?? "{}");
    expect(sold).toMatchObject({ state: "sold", holder: "alice" });
    // The genuine record, accepted again (as a read repair would): signed, one per ticket.
    const genuine = await acceptAt("aws", `hold/${bought.holdId}`, sold);
    expect(genuine.ok).toBe(true);
    expect(genuine.ok && (genuine.attest as { signatures: unknown[] }).signatures).toHaveLength(1);
    const variants: Record<string, unknown> = {
      "another theater": { ...sold, order: { ...sold.order, theaterId: "th-else" } },
      "another order": { ...sold, order: { ...sold.order, id: "o-another" } },
      "another holder": { ...sold, holder: "bob" },
      "no holder": { ...sold, holder: undefined },
      "no order": { ...sold, order: undefined },
      "malformed order": { ...sold, order: { ...sold.order, seats: "all" } },
      "not sold": { ...sold, state: "held" },
    };
    for (const [name, value] of Object.entries(variants)) {
      const r = await acceptAt("aws", `hold/${bought.holdId}`, value);
      expect(r.ok, name).toBe(true);
      expect(r.ok && r.attest, name).toBeUndefined();
    }
    // Put the genuine record back, as it was.
    expect((await acceptAt("aws", `hold/${bought.holdId}`, sold)).ok).toBe(true);
  });
});
