import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import type { TicketClaims } from "../../shared/tickets/claims.ts";
import { assembleTicket, signTicketClaims, type Ticket } from "../../shared/tickets/sign.ts";
import type { ClusterKeys } from "../../shared/tickets/trust.ts";
import { makeTestCluster, type TestCluster } from "../support/cluster.ts";

export function sampleClaims(overrides: Partial<TicketClaims> = {}): TicketClaims {
  return {
    tid: "tkt_01JZ8X7Q4M5N6P7R8S9T0V1W2X",
    cid: "test-cluster",
    evt: "evt_01JZ8X7Q4M5N6P7R8S9T0V1W2Y",
    seat: {
      id: "orch-A-12",
      section: "Orchestra",
      row: "A",
      label: "Row A, Seat 12",
      category: "A",
    },
    hld: "user_8d1f0c3e",
    ord: "ord_01JZ8X7Q4M5N6P7R8S9T0V1W2Z",
    iat: 1_767_225_600,
    thr: "thr_grand",
    prc: { amount: 4500, currency: "EUR" },
    ...overrides,
  };
}

export function clusterKeysOf(tc: TestCluster): ClusterKeys {
  return {
    clusterId: tc.cluster.clusterId,
    providers: Object.fromEntries(
      PROVIDERS.map((p) => [p, [tc.cluster.providers[p].publicJwk]]),
    ) as ClusterKeys["providers"],
  };
}

export async function signBy(
  tc: TestCluster,
  claims: TicketClaims,
  providers: readonly ProviderId[] = PROVIDERS,
): Promise<Ticket> {
  const sigs = await Promise.all(providers.map((p) => signTicketClaims(claims, tc.keys[p], p)));
  return assembleTicket(claims, sigs);
}

export { makeTestCluster };
