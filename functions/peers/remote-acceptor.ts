import type {
  AcceptEntry,
  AcceptorRecord,
  AcceptReply,
  DeleteEntry,
  DeleteReply,
  PrepareReply,
  PrepareRequest,
  ScanPage,
} from "../../shared/quorum/messages.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";
import { type PeerCallOptions, peerCall } from "./peer-call.ts";
import { ACCEPTOR_PATH, type AcceptorOp } from "./wire.ts";

export class PeerError extends Error {
  override name = "PeerError";
}

/** Another provider's acceptor, reached over its signed internal endpoint. */
export class RemoteAcceptor implements AcceptorPort {
  constructor(private readonly o: PeerCallOptions) {}

  private async call<T>(op: AcceptorOp | "ping", payload: unknown): Promise<T> {
    const r = await peerCall(this.o, `${ACCEPTOR_PATH}/${op}`, payload);
    if (!r.ok) throw new PeerError(`${this.o.to} ${op}: HTTP ${r.status} ${r.text}`);
    return r.json as T;
  }

  prepare(req: PrepareRequest): Promise<PrepareReply[]> {
    return this.call("prepare", { keys: req.keys, ballot: req.ballot });
  }
  accept(entries: readonly AcceptEntry[]): Promise<AcceptReply[]> {
    return this.call("accept", { entries });
  }
  deleteIf(entries: readonly DeleteEntry[]): Promise<DeleteReply[]> {
    return this.call("delete", { entries });
  }
  read(keys: readonly string[]): Promise<AcceptorRecord[]> {
    return this.call("read", { keys });
  }
  scan(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<ScanPage> {
    return this.call("scan", { prefix, ...opts });
  }
  async ping(): Promise<void> {
    await this.call("ping", {});
  }
}
