import { z } from "zod";
import { jsonString, PeerConfig } from "../config.ts";

/**
 * zod schemas for the Ed25519 JWKs identity uses, derived from the cluster config's own key schema
 * so that a governance or theater key is held to exactly the rules a provider key is.
 */
export const PublicJwkSchema = PeerConfig.shape.publicJwk;
export const PrivateJwkSchema = PublicJwkSchema.extend({ d: z.string().length(43) });

export { jsonString };
