import { applyAccept, applyPrepare } from "../quorum/acceptor.ts";
import {
  type AcceptEntry,
  type AcceptorRecord,
  type AcceptReply,
  type DeleteEntry,
  type DeleteReply,
  emptyRecord,
  matchesDelete,
  type PrepareReply,
  type PrepareRequest,
  type ScanPage,
} from "../quorum/messages.ts";
import { type AcceptorPort, type BlobPage, type BlobPort, clampLimit } from "./ports.ts";

/** In-memory acceptor for unit tests and the simulator; one JS turn per batch makes it atomic. */
export class MemoryAcceptor implements AcceptorPort {
  readonly records = new Map<string, AcceptorRecord>();

  private get(key: string): AcceptorRecord {
    return this.records.get(key) ?? emptyRecord(key);
  }

  async prepare(req: PrepareRequest): Promise<PrepareReply[]> {
    return req.keys.map((key) => {
      const { reply, next } = applyPrepare(this.get(key), req.ballot);
      this.records.set(key, next);
      return reply;
    });
  }

  async accept(entries: readonly AcceptEntry[]): Promise<AcceptReply[]> {
    return entries.map((e) => {
      const { reply, next } = applyAccept(this.get(e.key), e);
      this.records.set(e.key, next);
      return reply;
    });
  }

  async deleteIf(entries: readonly DeleteEntry[]): Promise<DeleteReply[]> {
    return entries.map((e) => {
      const rec = this.records.get(e.key);
      if (rec === undefined) return { ok: true, key: e.key };
      if (!matchesDelete(rec, e)) return { ok: false, key: e.key };
      this.records.delete(e.key);
      return { ok: true, key: e.key };
    });
  }

  async read(keys: readonly string[]): Promise<AcceptorRecord[]> {
    return keys.map((k) => this.get(k));
  }

  async scan(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<ScanPage> {
    const limit = clampLimit(opts.limit);
    const after = opts.cursor ?? "";
    const keys = [...this.records.keys()]
      .filter((k) => k.startsWith(prefix) && k > after)
      .sort()
      .slice(0, limit + 1);
    const page = keys.slice(0, limit).map((k) => this.get(k));
    const last = page.at(-1);
    return keys.length > limit && last ? { records: page, cursor: last.key } : { records: page };
  }

  async ping(): Promise<void> {}
}

export class MemoryBlobs implements BlobPort {
  readonly blobs = new Map<string, Uint8Array>();

  async put(key: string, body: Uint8Array | string): Promise<void> {
    this.blobs.set(key, typeof body === "string" ? new TextEncoder().encode(body) : body.slice());
  }

  async get(key: string): Promise<Uint8Array | null> {
    return this.blobs.get(key)?.slice() ?? null;
  }

  async list(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<BlobPage> {
    const limit = clampLimit(opts.limit);
    const after = opts.cursor ?? "";
    const keys = [...this.blobs.keys()]
      .filter((k) => k.startsWith(prefix) && k > after)
      .sort()
      .slice(0, limit + 1);
    const page = keys.slice(0, limit);
    const last = page.at(-1);
    return keys.length > limit && last ? { keys: page, cursor: last } : { keys: page };
  }
}
