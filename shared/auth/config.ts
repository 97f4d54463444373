import { z } from "zod";
import { Ed25519PublicJwk, jsonString } from "../config.ts";

/** A generic JWK as an OIDC provider publishes it; jose checks the key material itself. */
const AnyJwk = z.looseObject({ kty: z.string().min(1) });

/**
 * The identity part of the environment, to be merged into each adapter's schema
 * (`CommonEnv.extend(AuthEnv.shape)`).
 */
export const AuthEnv = z.object({
  /** JSON array of the governance public keys (Ed25519 JWKs) whose licenses admit theaters. */
  TESSERA_GOVERNANCE_KEYS: jsonString(z.array(Ed25519PublicJwk).min(1)),
  /** The buyers' OpenID Connect issuer, exactly as it appears in tokens' `iss`. */
  TESSERA_OIDC_ISSUER: z.url(),
  /** The `aud` buyer tokens must carry. */
  TESSERA_OIDC_AUDIENCE: z.string().min(1),
  /** Inline JWKS `{"keys":[...]}`; when absent the keys are fetched via the issuer's discovery. */
  TESSERA_OIDC_JWKS: jsonString(z.object({ keys: z.array(AnyJwk).min(1) })).optional(),
  /** JSON array of revoked license ids (`jti`). */
  TESSERA_REVOKED_LICENSES: jsonString(z.array(z.string().min(1))).optional(),
});
export type AuthEnv = z.infer<typeof AuthEnv>;
