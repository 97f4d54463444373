import { z } from "zod";
import { AuthEnv } from "./auth/config.ts";
import { CommonEnv, Ed25519PrivateJwk, jsonString } from "./config.ts";
import { TrustList } from "./tickets/trust.ts";

/**
 * Everything a deployment reads from its environment apart from its own stores: cluster identity
 * and keys (CommonEnv), identity settings (AuthEnv), and product settings. Each adapter extends this
 * with its store settings and parses it once with `loadConfig`.
 */
export const DeploymentEnv = CommonEnv.extend(AuthEnv.shape).extend({
  /**
   * Development only: the private key of the built-in identity provider. When set, the provider
   * serves /idp (discovery, JWKS, token) for the named test users. Never set in production.
   */
  TESSERA_DEV_IDP_KEY: jsonString(Ed25519PrivateJwk).optional(),
  /**
   * Bearer secret of the scheduled anti-entropy call (`/internal/anti-entropy`). Vercel Cron sends
   * `Authorization: Bearer $CRON_SECRET` by itself; the Workers and Lambda schedulers call in-process
   * with the same header. Without it the endpoint is disabled.
   */
  CRON_SECRET: z.string().min(16, "at least 16 characters").optional(),
  /**
   * Name of the last restore of this deployment's own store (a point-in-time restore, a failover
   * to an asynchronously replicated copy), a new one per restore, e.g. `2026-12-07-pitr`. Until
   * the store has been marked for this name and its rejoin walk has re-chosen every key onto it,
   * it does not vote (docs/quorum.md, "Acceptor amnesia"). Set it in the deploy that switches to
   * the restored store (or before an in-place restore); leaving it set afterwards is harmless.
   */
  TESSERA_STORE_RESTORE: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "letters, digits, '.', '_' or '-', at most 64")
    .optional(),
  /**
   * Secret (base64url, at least 32 bytes) that keys buyer ids into storage keys
   * (functions/services/buyer-id.ts), the same on all three providers: without it, anyone reading
   * the public audit log could link a guessed buyer id to that buyer's keys.
   */
  /**
   * Issuers whose users are this cluster's buyers by the same subject (JSON array of URLs): the
   * same identity provider as a former cluster knew it, for tickets brought over by a fork.
   * Tickets name their holder's issuer (`hiss`); without an alias, another issuer's "alice" is
   * another person.
   */
  TESSERA_OIDC_ISSUER_ALIASES: jsonString(z.array(z.url().max(255)).max(16)).optional(),
  TESSERA_BUYER_ID_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43,512}$/, "base64url, at least 32 bytes (43 characters)"),
  /**
   * Former clusters whose ticket keys this cluster's operators vouch for (JSON, any shape
   * `normalizeTrust` accepts, e.g. `{"trusted":[ClusterKeys, ...]}`): only tickets signed by these
   * (or this cluster's own keys) link orders and tickets to buyers' accounts, through a theater's
   * fork import or a buyer's ticket import. Keys carried in an imported file never do.
   */
  TESSERA_TRUSTED_CLUSTERS: jsonString(TrustList).optional(),
  /** Comma-separated test users the development identity provider signs in. */
  TESSERA_DEV_IDP_USERS: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}(,[a-z0-9_-]{1,32}){0,31}$/, "comma-separated lowercase user names")
    .optional(),
});
export type DeploymentEnv = z.infer<typeof DeploymentEnv>;

/** The parts of DeploymentEnv the handler set uses beyond provider, cluster and signing key. */
export type AppSettings = Omit<
  DeploymentEnv,
  "TESSERA_PROVIDER" | "TESSERA_CLUSTER" | "TESSERA_SIGNING_KEY"
>;
