import { z } from "zod";

/**
 * One configuration schema for every deployment. Each adapter hands its provider's environment
 * (process.env on Vercel/Lambda, bindings on Workers) to `loadConfig`; a missing or malformed
 * setting fails at start with a message naming the variable.
 */
export const PROVIDERS = ["cloudflare", "vercel", "aws"] as const;
export const ProviderId = z.enum(PROVIDERS);
export type ProviderId = z.infer<typeof ProviderId>;

/** 32 bytes, base64url without padding (RFC 8037). */
const KEY_BYTES = /^[A-Za-z0-9_-]{43}$/;
/** The one Ed25519 public JWK schema (peer keys, ticket trust lists, governance keys). */
export const Ed25519PublicJwk = z.object({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().regex(KEY_BYTES),
  kid: z.string().min(1).max(128),
});
/** The one Ed25519 private JWK schema (provider signing keys, dev IdP key, CLI key files). */
export const Ed25519PrivateJwk = Ed25519PublicJwk.extend({ d: z.string().regex(KEY_BYTES) });
export type PublicJwk = z.infer<typeof Ed25519PublicJwk>;
export type PrivateJwk = z.infer<typeof Ed25519PrivateJwk>;

export const PeerConfig = z.object({
  /** Base URL of that provider's deployment (no trailing slash). */
  url: z.url().transform((u) => u.replace(/\/+$/, "")),
  /** The provider's Ed25519 public key: verifies its peer calls and its ticket signatures. */
  publicJwk: Ed25519PublicJwk,
});

/** The public part of the cluster configuration: shared by all three deployments. */
export const ClusterConfig = z.object({
  clusterId: z.string().regex(/^[a-z0-9][a-z0-9-]{2,62}$/, "lowercase id, 3-63 chars"),
  providers: z.object({ cloudflare: PeerConfig, vercel: PeerConfig, aws: PeerConfig }),
});
export type ClusterConfig = z.infer<typeof ClusterConfig>;

/** Parses JSON text; the zod pipe names what was wrong instead of throwing a SyntaxError. */
export const jsonString = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "is not valid JSON" });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** Environment variables common to every provider. */
export const CommonEnv = z.object({
  TESSERA_PROVIDER: ProviderId,
  /** ClusterConfig as JSON. */
  TESSERA_CLUSTER: jsonString(ClusterConfig),
  /** This provider's Ed25519 private JWK as JSON; a secret, never committed. */
  TESSERA_SIGNING_KEY: jsonString(Ed25519PrivateJwk),
});
export type CommonEnv = z.infer<typeof CommonEnv>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses `env` with `schema`, throwing one error that names every bad or missing variable. */
export function loadConfig<T extends z.ZodType>(
  schema: T,
  env: Record<string, unknown>,
): z.infer<T> {
  // An empty variable is an unset one: deploy templates declare optional settings as "" when the
  // operator has none (serverless.yml `${env:X, ''}`).
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ""));
  const r = schema.safeParse(set);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const name = i.path.map(String).join(".") || "(environment)";
    return `  ${name}: ${i.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
}
