import { PROVIDERS, type ProviderId } from "../../shared/config.ts";

/**
 * Where sealed segments live in a provider's blob store, and the public ids that name them:
 *
 *   blob key    audit/<provider>/<stream>/<fromSeq>-<toSeq>.json
 *   segment id  <stream>.<fromSeq>-<toSeq>          (what /v1/audit/segments/{id} takes)
 *   stream      <provider>-<startMs>-<tag>          (one per running instance)
 *
 * Seqs are zero-padded to SEQ_DIGITS so a blob listing (byte order) is seq order, and a stream's
 * start time leads its name so streams list oldest first. Ids carry no '/', so they fit one path
 * segment of the public route.
 */
export const AUDIT_PREFIX = "audit/";
/** 10^12 entries per instance: far beyond any instance's lifetime. */
export const SEQ_DIGITS = 12;

const TAG_RE = "[A-Za-z0-9_]{1,32}";
const STREAM_RE = new RegExp(`^(${PROVIDERS.join("|")})-([0-9]{1,16})-(${TAG_RE})$`);
const SEGMENT_ID_RE = new RegExp(
  `^((?:${PROVIDERS.join("|")})-[0-9]{1,16}-${TAG_RE})\\.([0-9]{${SEQ_DIGITS}})-([0-9]{${SEQ_DIGITS}})$`,
);

export const streamId = (provider: ProviderId, startMs: number, tag: string) =>
  `${provider}-${startMs}-${tag}`;

export function providerOfStream(stream: string): ProviderId | undefined {
  return STREAM_RE.exec(stream)?.[1] as ProviderId | undefined;
}

const pad = (n: number) => String(n).padStart(SEQ_DIGITS, "0");

export const providerPrefix = (provider: ProviderId) => `${AUDIT_PREFIX}${provider}/`;

export function segmentBlobKey(stream: string, fromSeq: number, toSeq: number): string {
  const p = providerOfStream(stream);
  if (!p) throw new RangeError(`bad audit stream id ${JSON.stringify(stream)}`);
  return `${providerPrefix(p)}${stream}/${pad(fromSeq)}-${pad(toSeq)}.json`;
}

export interface SegmentRef {
  id: string;
  provider: ProviderId;
  stream: string;
  fromSeq: number;
  toSeq: number;
  blobKey: string;
}

export function parseSegmentId(id: string): SegmentRef | undefined {
  const m = SEGMENT_ID_RE.exec(id);
  if (!m) return undefined;
  const [, stream, from, to] = m as unknown as [string, string, string, string];
  const provider = providerOfStream(stream);
  if (!provider) return undefined;
  const fromSeq = Number(from);
  const toSeq = Number(to);
  if (fromSeq < 1 || toSeq < fromSeq) return undefined;
  return { id, provider, stream, fromSeq, toSeq, blobKey: segmentBlobKey(stream, fromSeq, toSeq) };
}

/** The segment a blob key names, or undefined for a key that is not a segment. */
export function segmentOfBlobKey(key: string): SegmentRef | undefined {
  const m = /^audit\/[a-z]+\/([^/]+)\/([0-9]+)-([0-9]+)\.json$/.exec(key);
  if (!m) return undefined;
  const ref = parseSegmentId(`${m[1]}.${m[2]}-${m[3]}`);
  return ref && ref.blobKey === key ? ref : undefined;
}
