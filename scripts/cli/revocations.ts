import {
  checkFeeds,
  type FeedCheck,
  RevocationFeed,
} from "../../shared/tickets/revocation-feed.ts";
import type { TrustedCluster } from "../../shared/tickets/trust.ts";
import { InputError, readJsonFile } from "./io.ts";

/**
 * `--revocations FILE|URL` for `tessera ticket verify`: an event's revocation feed saved as a file
 * (one feed, or a list of them), or fetched from a provider's
 * `/v1/events/{eventId}/revocations`, following `next` until the feed says it is complete. Every
 * entry is checked against the trusted keys: a feed can only leave revocations out, never add one.
 */

/** Answers of 256 entries: far beyond any event's refunds before this gives up. */
const MAX_FEED_CALLS = 1000;
/** One answer is about 130 KB; a much larger one is not a feed. */
const MAX_FEED_BYTES = 8 * 1024 * 1024;

export async function loadRevocations(
  sources: readonly string[],
  trusted: readonly TrustedCluster[],
  fetcher: typeof fetch = fetch,
): Promise<FeedCheck> {
  const feeds: unknown[] = [];
  for (const src of sources) {
    if (/^https?:\/\//.test(src)) feeds.push(...(await fetchFeed(src, fetcher)));
    else {
      const json = await readJsonFile(src);
      feeds.push(...(Array.isArray(json) ? json : [json]));
    }
  }
  try {
    return await checkFeeds(feeds, trusted);
  } catch (e) {
    throw new InputError(`not a revocation feed (tessera.revocations): ${(e as Error).message}`);
  }
}

async function fetchFeed(url: string, fetcher: typeof fetch): Promise<RevocationFeed[]> {
  const out: RevocationFeed[] = [];
  const base = new URL(url);
  let since = Number(base.searchParams.get("since") ?? 0);
  for (let i = 0; i < MAX_FEED_CALLS; i++) {
    base.searchParams.set("since", String(since));
    let res: Response;
    try {
      res = await fetcher(base, { headers: { accept: "application/json" } });
    } catch (e) {
      throw new InputError(`cannot fetch ${base}: ${(e as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) throw new InputError(`${base}: HTTP ${res.status} ${text.slice(0, 200)}`);
    if (text.length > MAX_FEED_BYTES) throw new InputError(`${base}: answer too large`);
    let feed: RevocationFeed;
    try {
      feed = RevocationFeed.parse(JSON.parse(text));
    } catch (e) {
      throw new InputError(`${base}: not a revocation feed: ${(e as Error).message}`);
    }
    out.push(feed);
    // A feed still signing its newest entries says so; what it has listed is kept.
    if (feed.complete || feed.next <= since) return out;
    since = feed.next;
  }
  throw new InputError(`${url}: more than ${MAX_FEED_CALLS} answers`);
}
