import { makeTestCluster, type TestCluster } from "../../scripts/local/throwaway-cluster.ts";
import { PROVIDERS, type ProviderId } from "../../shared/config.ts";
import type { TicketClaims } from "../../shared/tickets/claims.ts";
import { exampleClaims } from "../../shared/tickets/example.ts";
import { assembleTicket, signTicketClaims, type Ticket } from "../../shared/tickets/sign.ts";
import type { ClusterKeys } from "../../shared/tickets/trust.ts";

export function sampleClaims(overrides: Partial<TicketClaims> = {}): TicketClaims {
  return { ...exampleClaims("test-cluster"), ...overrides };
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
