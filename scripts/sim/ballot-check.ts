import type { AcceptorPort } from "../../shared/storage/ports.ts";

/**
 * Paxos needs every ballot to carry one value: a proposer sends one proposal per ballot, and no
 * two proposers share a ballot (ballots embed a unique proposer id). The simulator watches every
 * accept that leaves a coordinator and flags a (key, ballot) sent with two different values, the
 * moment it happens, whatever the acceptors then make of it.
 */
export class BallotLedger {
  private readonly sent = new Map<string, string | null>();
  readonly clashes: string[] = [];

  /** `port`, with every accept it sends recorded in the ledger. */
  watch(port: AcceptorPort): AcceptorPort {
    return {
      ...port,
      accept: (entries) => {
        for (const e of entries) {
          const id = `${e.key}@${e.ballot}`;
          const prev = this.sent.get(id);
          if (prev === undefined) this.sent.set(id, e.value);
          else if (prev !== e.value && this.clashes.length < MAX_CLASHES) {
            this.clashes.push(`ballot ${e.ballot} carried two values for ${e.key}`);
          }
        }
        return port.accept(entries);
      },
    };
  }
}

/** Enough to report; a broken run can clash thousands of times. */
const MAX_CLASHES = 3;
