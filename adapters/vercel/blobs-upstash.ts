import type { Redis } from "@upstash/redis";
import { type BlobPage, type BlobPort, clampLimit } from "../../shared/storage/ports.ts";

/** Largest blob: its base64 form (4/3 of it) plus the command must fit Upstash's 10 MB request. */
export const BLOB_BYTES_MAX = 7 * 1024 * 1024;

export interface UpstashBlobsOptions {
  /** Prefix of every Redis key the blob store owns. */
  readonly namespace?: string;
}

/**
 * Blobs in the same Upstash database as the acceptor (Vercel has no object store we may rely on
 * without a second vendor). A body is kept as base64 text: the REST protocol carries JSON strings,
 * and the client decodes replies as UTF-8, so raw bytes would not survive the round trip. A sorted
 * set (every score 0, members in byte order) indexes the keys for prefix listings. Upstash refuses
 * a request over 10 MB (Free and Pay-as-you-go), and base64 adds a third: see BLOB_BYTES_MAX.
 */
export class UpstashBlobs implements BlobPort {
  private readonly valuePrefix: string;
  private readonly index: string;

  constructor(
    private readonly redis: Redis,
    opts: UpstashBlobsOptions = {},
  ) {
    const ns = opts.namespace ?? "tessera:blob:";
    this.valuePrefix = `${ns}v:`;
    this.index = `${ns}idx`;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body);
    if (bytes.length > BLOB_BYTES_MAX) {
      throw new RangeError(`blob ${key} is ${bytes.length} bytes, over ${BLOB_BYTES_MAX}`);
    }
    // One MULTI so that a listed key always has its body.
    await this.redis
      .multi()
      .set(this.valuePrefix + key, bytes.toString("base64"))
      .zadd(this.index, { score: 0, member: key })
      .exec();
  }

  async get(key: string): Promise<Uint8Array | null> {
    const b64 = await this.redis.get<string>(this.valuePrefix + key);
    return b64 === null ? null : new Uint8Array(Buffer.from(b64, "base64"));
  }

  async list(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<BlobPage> {
    const limit = clampLimit(opts.limit);
    const { cursor } = opts;
    const min = cursor !== undefined && cursor >= prefix ? `(${cursor}` : `[${prefix}`;
    // Keys are printable ASCII, so every key with the prefix sorts below prefix + U+00FF.
    const max = prefix === "" ? "+" : `(${prefix}\u00ff`;
    const keys = await this.redis.zrange<string[]>(this.index, min as `[${string}`, max as "+", {
      byLex: true,
      offset: 0,
      count: limit + 1,
    });
    const page = keys.slice(0, limit);
    const last = page.at(-1);
    return keys.length > limit && last ? { keys: page, cursor: last } : { keys: page };
  }
}
