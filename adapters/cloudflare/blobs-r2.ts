import { type BlobPage, type BlobPort, clampLimit } from "../../shared/storage/ports.ts";
import type { R2Bucket } from "./runtime-types.ts";

/**
 * BlobPort over the R2 bucket bound as BLOBS. The page cursor is the last key returned (R2's
 * `startAfter`), not R2's own opaque cursor: that keeps cursors the same shape on every driver and
 * valid across deploys, and R2 lists in key order (UTF-8 bytes) just like the other stores.
 */
export class R2Blobs implements BlobPort {
  constructor(private readonly bucket: R2Bucket) {}

  async put(key: string, body: Uint8Array | string, opts: { contentType?: string } = {}) {
    await this.bucket.put(
      key,
      body,
      opts.contentType ? { httpMetadata: { contentType: opts.contentType } } : undefined,
    );
  }

  async get(key: string): Promise<Uint8Array | null> {
    const obj = await this.bucket.get(key);
    return obj ? new Uint8Array(await obj.arrayBuffer()) : null;
  }

  async list(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<BlobPage> {
    const limit = clampLimit(opts.limit);
    let res = await this.bucket.list({
      prefix,
      limit,
      ...(opts.cursor ? { startAfter: opts.cursor } : {}),
    });
    // R2 may end a page early (it caps by response size too): a truncated page with no keys would
    // leave nothing to resume from, so follow R2's own cursor until a key or the end shows up.
    while (res.truncated && res.objects.length === 0) {
      res = await this.bucket.list({ prefix, limit, cursor: res.cursor });
    }
    const keys = res.objects.map((o) => o.key);
    const last = keys.at(-1);
    return res.truncated && last !== undefined ? { keys, cursor: last } : { keys };
  }
}
