import type { ProviderId } from "../../shared/config.ts";
import { SCAN_LIMIT_MAX } from "../../shared/storage/ports.ts";
import {
  parseSegmentId,
  providerPrefix,
  type SegmentRef,
  segmentOfBlobKey,
} from "../audit/layout.ts";
import type { AppDeps } from "../deps.ts";
import { errorText, ProblemError } from "../problem.ts";
import { unavailable } from "./store.ts";

/**
 * Read side of the audit log: sealed segments as this provider's blob store holds them. Each
 * provider stores only its own segments; the routes send a request for another provider's
 * segments there (307), so an auditor can talk to any provider.
 */

/** Segments listed per page: a page of ids is small; the segments themselves are fetched one by one. */
export const SEGMENT_PAGE_MAX = SCAN_LIMIT_MAX;
export const SEGMENT_PAGE_DEFAULT = 100;

export interface SegmentPage {
  segments: SegmentRef[];
  cursor?: string;
}

export async function listSegments(
  deps: AppDeps,
  provider: ProviderId,
  page: { cursor?: string | undefined; limit: number },
): Promise<SegmentPage> {
  const prefix = providerPrefix(provider);
  // API cursors are segment ids (every blob driver's cursor is the last key it returned).
  let after: string | undefined;
  if (page.cursor !== undefined) {
    const ref = parseSegmentId(page.cursor);
    if (!ref || ref.provider !== provider) {
      throw new ProblemError(
        400,
        "invalid-cursor",
        "Invalid cursor",
        "pass `nextCursor` unchanged",
      );
    }
    after = ref.blobKey;
  }
  let got: Awaited<ReturnType<AppDeps["blobs"]["list"]>>;
  try {
    got = await deps.blobs.list(prefix, {
      limit: Math.min(page.limit, SEGMENT_PAGE_MAX),
      ...(after !== undefined ? { cursor: after } : {}),
    });
  } catch (e) {
    throw unavailable(`blob store listing failed: ${errorText(e)}`);
  }
  const segments = got.keys.flatMap((k) => {
    const ref = segmentOfBlobKey(k);
    return ref ? [ref] : [];
  });
  const last = segments.at(-1);
  return got.cursor === undefined || !last ? { segments } : { segments, cursor: last.id };
}

/** The stored segment's bytes (JSON text of a SealedSegment), or null when there is none. */
export async function readSegment(deps: AppDeps, ref: SegmentRef): Promise<Uint8Array | null> {
  try {
    return await deps.blobs.get(ref.blobKey);
  } catch (e) {
    throw unavailable(`blob store read failed: ${errorText(e)}`);
  }
}
