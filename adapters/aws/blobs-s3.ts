import {
  GetObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { type BlobPage, type BlobPort, clampLimit } from "../../shared/storage/ports.ts";

export interface S3BlobsOptions {
  readonly client: S3Client;
  readonly bucket: string;
}

/**
 * Blobs as S3 objects, one object per key. Listing uses ListObjects (v1) with Marker = the last key
 * returned: the cursor stays a plain key like every other driver's, and s3rver builds v2
 * continuation tokens with DES, which Node 17+ refuses without --openssl-legacy-provider, so v2
 * pagination would fail locally while v1 behaves the same on s3rver and S3.
 */
export class S3Blobs implements BlobPort {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(opts: S3BlobsOptions) {
    this.client = opts.client;
    this.bucket = opts.bucket;
  }

  async put(
    key: string,
    body: Uint8Array | string,
    opts?: { contentType?: string },
  ): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType:
          opts?.contentType ??
          (typeof body === "string" ? "text/plain; charset=utf-8" : "application/octet-stream"),
      }),
    );
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (e) {
      if ((e as { name?: unknown } | null)?.name === "NoSuchKey") return null;
      throw e;
    }
  }

  async list(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<BlobPage> {
    const limit = clampLimit(opts.limit);
    const out = await this.client.send(
      new ListObjectsCommand({
        Bucket: this.bucket,
        Prefix: prefix,
        MaxKeys: limit,
        ...(opts.cursor ? { Marker: opts.cursor } : {}),
      }),
    );
    const keys = (out.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [o.Key]));
    const last = keys.at(-1);
    return out.IsTruncated && last ? { keys, cursor: last } : { keys };
  }
}
