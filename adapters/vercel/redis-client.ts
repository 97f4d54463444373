import { Redis } from "@upstash/redis";

export interface UpstashClientConfig {
  readonly url: string;
  readonly token: string;
  /** `false` turns off the client's network-error retries (5 tries over ~4 s); tests use it so a
   * stopped store fails at once. Retrying a script is safe: a replayed prepare or accept finds its
   * own ballot already there and is refused, which the proposer handles like any refusal. */
  readonly retry?: false;
}

/**
 * The one way the Vercel adapter builds its Upstash client. Automatic deserialisation stays off:
 * acceptor values are JSON text that must come back byte for byte (the string "null" is not the
 * absent value null), so nothing may JSON.parse them on the way.
 */
export function createUpstashClient(cfg: UpstashClientConfig): Redis {
  return new Redis({
    url: cfg.url,
    token: cfg.token,
    automaticDeserialization: false,
    ...(cfg.retry === false ? { retry: false } : {}),
  });
}
