import type { BuyerVerifier } from "../../shared/auth/oidc.ts";
import type { PaymentPort } from "../../shared/payments/port.ts";
import { SimulatedCardProcessor } from "../../shared/payments/simulated-processor.ts";
import { SeatService } from "../../shared/seats/service.ts";
import { buyerVerifierFromEnv } from "../auth/jwks.ts";
import type { TheaterAuthOptions } from "../auth/theater.ts";
import type { Deps } from "../deps.ts";
import { createReplication, type Replication } from "../quorum.ts";
import { randomBytes } from "../random.ts";
import { BuyerIds } from "./buyer-id.ts";
import { EntityStore } from "./store.ts";

/**
 * Everything the routes use, built once per app instance from its deps. Routes receive this object
 * and never build clients themselves, so one warm instance shares one quorum client (and its
 * promise cache) across requests.
 */
export interface Services {
  readonly deps: Deps;
  readonly now: () => number;
  readonly replication: Replication;
  readonly store: EntityStore;
  readonly seats: SeatService;
  readonly payments: PaymentPort;
  readonly buyerVerifier: BuyerVerifier;
  /** Buyer ids as storage keys carry them (keyed, issuer-qualified). */
  readonly buyerIds: BuyerIds;
  readonly theaterAuth: TheaterAuthOptions;
}

export function createServices(deps: Deps): Services {
  const now = deps.now;
  const replication = createReplication(deps);
  const s = deps.settings;
  return {
    deps,
    now,
    replication,
    store: new EntityStore(replication.client, deps.acceptor, replication.acceptors),
    seats: new SeatService(replication.client, { now, randomBytes }),
    payments: new SimulatedCardProcessor({ now }),
    buyerVerifier: buyerVerifierFromEnv(s, { now, ...(deps.fetch ? { fetch: deps.fetch } : {}) }),
    buyerIds: new BuyerIds(
      s.TESSERA_BUYER_ID_KEY,
      s.TESSERA_OIDC_ISSUER,
      s.TESSERA_OIDC_ISSUER_ALIASES ?? [],
    ),
    theaterAuth: {
      governanceKeys: s.TESSERA_GOVERNANCE_KEYS,
      clusterId: deps.cluster.clusterId,
      revoked: new Set(s.TESSERA_REVOKED_LICENSES ?? []),
      now,
    },
  };
}
