import type { ProviderId } from "../../shared/config.ts";

/**
 * One local "provider": its adapter running on its real stand-in stores. `start*` functions in
 * scripts/local/<provider>.ts return this; `npm start` and the tests start all three the same way.
 */
export interface LocalProvider {
  readonly provider: ProviderId;
  /** Base URL of the adapter's HTTP endpoint on loopback. */
  readonly url: string;
  /** Stops the adapter and every stand-in it started (idempotent). */
  stop(): Promise<void>;
  /** Named stand-in processes/servers that chaos tooling may stop and start again. */
  readonly standIns: Record<string, { stop(): Promise<void>; start(): Promise<void> }>;
}

export interface LocalProviderOptions {
  /** Port for the adapter's HTTP endpoint (0 = pick a free one). */
  readonly port: number;
  /** Folder for this provider's persisted data (created if missing). */
  readonly dataDir: string;
  /** Environment for the adapter: TESSERA_* common settings; provider-specific ones are added by
   * the starter from the stand-ins it launches. */
  readonly env: Record<string, string>;
}
