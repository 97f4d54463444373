import { beforeAll, describe, expect, it } from "vitest";
import { crossCheck } from "../../shared/audit/cross-check.ts";
import type { AuditEntry } from "../../shared/audit/entry.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import { buySeats } from "../functions/routes/buyer/helpers.ts";
import { sealedAuditLogs } from "../support/audit.ts";
import { type MemoryCluster, startSeededMemoryCluster } from "../support/memory-cluster.ts";

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
  const seeded = await startSeededMemoryCluster();
  mc = seeded.mc;
  const ev = seeded.ev;
  const { body } = await buySeats(
    mc,
    await mc.tokenFor("alice"),
    ev.eventId,
    ev.seats.slice(0, 2),
    {
      hold: "vercel",
      confirm: "vercel",
    },
  );
  orderId = body.order.id;
  ticketIds = body.tickets.map((t: { id: string }) => t.id);
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
