import { toBase64Url } from "../shared/crypto/base64.ts";
import { QuorumClient } from "../shared/quorum/client.ts";
import type { AcceptEntry } from "../shared/quorum/messages.ts";
import type { AcceptorPort } from "../shared/storage/ports.ts";
import { writeRecord } from "./audit/acceptor.ts";
import { auditLogOf } from "./audit/wire.ts";
import type { Deps } from "./deps.ts";
import { clusterAcceptors } from "./peers/acceptors.ts";
import { randomBytes, randomFraction } from "./random.ts";

export interface Replication {
  readonly client: QuorumClient;
  readonly acceptors: readonly AcceptorPort[];
  readonly localIndex: number;
}

/**
 * The replicated store as this instance sees it: one QuorumClient per running instance (a Workers
 * isolate, a Lambda container, a Vercel instance), so its warm-promise cache serves the next
 * request. The proposer id is the provider plus a random instance tag: ballots must never be shared
 * by two live instances, and an instance restarted with the same id could reuse ballots.
 */
export function createReplication(deps: Deps): Replication {
  const { acceptors, localIndex } = clusterAcceptors(deps);
  const tag = toBase64Url(randomBytes(9));
  // Each change this instance sees chosen is logged as a "commit" entry (docs/audit-log.md).
  const audit = auditLogOf(deps);
  const client = new QuorumClient({
    acceptors,
    localIndex,
    proposerId: `${deps.provider}-${tag}`,
    now: deps.now,
    random: randomFraction,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    ...(audit
      ? {
          onChosen: async (entries: readonly AcceptEntry[]) =>
            audit.record(await Promise.all(entries.map((e) => writeRecord("commit", e)))),
        }
      : {}),
  });
  return { client, acceptors, localIndex };
}
