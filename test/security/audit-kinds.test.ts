import { beforeAll, describe, expect, it } from "vitest";
import { crossCheck } from "../../shared/audit/cross-check.ts";
import type { AuditEntry } from "../../shared/audit/entry.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { CARD_OK, call, newKey } from "../functions/routes/buyer/helpers.ts";
import { sealedAuditLogs } from "../support/audit.ts";
import { type MemoryCluster, startMemoryCluster } from "../support/memory-cluster.ts";
import { directStore, seedEvent } from "../support/seed.ts";

/**
 * Threat: a provider signs tickets, or a coordinator commits writes, and nothing public records it,
 * so nobody can later show which provider vouched for a ticket that no order backs. Every ticket
 * signature and every change a proposer saw chosen must be in the signer's append-only log.
 */
let mc: MemoryCluster;
let ticketIds: string[];
let orderId: string;
const logs: Partial<Record<ProviderId, AuditEntry[]>> = {};

beforeAll(async () => {
  mc = await startMemoryCluster();
  const ev = await seedEvent(
    directStore(mc.acceptors, () => mc.clock.ms),
    { nowMs: mc.clock.ms },
  );
  const alice = await mc.tokenFor("alice");
  const h = await call(mc, "vercel", "POST", `/v1/events/${ev.eventId}/holds`, {
    token: alice,
    key: newKey(),
    body: { seats: [ev.seats[0], ev.seats[1]] },
  });
  const c = await call(mc, "vercel", "POST", `/v1/holds/${h.body.holdId}/confirm`, {
    token: alice,
    key: newKey(),
    body: { card: CARD_OK },
  });
  expect(c.status).toBe(201);
  orderId = c.body.order.id;
  ticketIds = c.body.tickets.map((t: { id: string }) => t.id);
  const sealed = await sealedAuditLogs(mc);
  for (const p of PROVIDERS) logs[p] = sealed[p].entries;
});

describe("the audit log records", () => {
  it("every ticket signature, on every provider that signed it", async () => {
    expect(ticketIds).toHaveLength(2);
    const report = crossCheck(logs);
    for (const tid of ticketIds) {
      const signers = PROVIDERS.filter((p) =>
        logs[p]?.some((e) => e.kind === "ticket-sign" && e.key === `ticket/${tid}`),
      );
      expect(signers, tid).toEqual(PROVIDERS);
      const c = report.commits.find((x) => x.commitId === `ticket/${tid}`);
      expect(c?.status).toBe("agreed");
    }
  });

  it("each change the coordinator saw chosen, agreeing with the acceptors' entries", async () => {
    const commits = (logs.vercel ?? []).filter((e) => e.kind === "commit");
    expect(commits.some((e) => e.key === `order/${orderId}`)).toBe(true);
    const report = crossCheck(logs);
    expect(report.conflicts).toBe(0);
    for (const e of commits) {
      const c = report.commits.find((x) => x.commitId === e.commitId);
      expect(c?.kinds, e.commitId).toEqual(["accept", "commit"]);
      expect(c?.providers.length ?? 0).toBeGreaterThanOrEqual(2);
    }
  });
});
