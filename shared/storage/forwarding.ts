import type {
  AcceptEntry,
  AcceptorRecord,
  AcceptReply,
  DeleteEntry,
  DeleteReply,
  PrepareReply,
  PrepareRequest,
  ScanPage,
} from "../quorum/messages.ts";
import type { AcceptorPort } from "./ports.ts";

/** An acceptor that passes every call to `inner`: the base of decorators that change one or two. */
export class ForwardingAcceptor implements AcceptorPort {
  constructor(readonly inner: AcceptorPort) {}

  prepare(req: PrepareRequest): Promise<PrepareReply[]> {
    return this.inner.prepare(req);
  }

  accept(entries: readonly AcceptEntry[]): Promise<AcceptReply[]> {
    return this.inner.accept(entries);
  }

  deleteIf(entries: readonly DeleteEntry[]): Promise<DeleteReply[]> {
    return this.inner.deleteIf(entries);
  }

  read(keys: readonly string[]): Promise<AcceptorRecord[]> {
    return this.inner.read(keys);
  }

  scan(prefix: string, opts?: { cursor?: string; limit?: number }): Promise<ScanPage> {
    return this.inner.scan(prefix, opts);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }
}
