import type { AcceptEntry, AcceptReply } from "../../shared/quorum/messages.ts";
import { ForwardingAcceptor } from "../../shared/storage/forwarding.ts";

/** What this provider vouches for about a value its store has just accepted (or nothing). */
export type Witness = (entry: AcceptEntry) => Promise<unknown>;

/**
 * This provider's own store, whose accept replies carry what the provider vouches for about each
 * value the store has just accepted (for a sale: its tickets' signatures, services/tickets.ts
 * `attestAccept`). Only entries the store said yes to are witnessed, after it did: no provider
 * signs anything it did not accept itself. A witness that fails or has nothing to say leaves the
 * reply as it was: the accept stands, and the coordinator asks for signatures the old way.
 *
 * The witness is bound once the app's services exist (they read through the store this wraps).
 */
export class WitnessingAcceptor extends ForwardingAcceptor {
  private witness: Witness | undefined;

  bind(witness: Witness): void {
    this.witness = witness;
  }

  override async accept(entries: readonly AcceptEntry[]): Promise<AcceptReply[]> {
    const replies = await this.inner.accept(entries);
    const witness = this.witness;
    if (witness === undefined) return replies;
    return Promise.all(
      replies.map(async (r, i) => {
        const e = entries[i];
        if (!r.ok || e === undefined || e.key !== r.key) return r;
        const attest = await witness(e).catch(() => undefined);
        return attest === undefined ? r : { ...r, attest };
      }),
    );
  }
}
