import { z } from "zod";
import { PeerConfig } from "../config.ts";

/**
 * zod schemas for the Ed25519 JWKs identity uses, derived from the cluster config's own key schema
 * so that a governance or theater key is held to exactly the rules a provider key is.
 */
export const PublicJwkSchema = PeerConfig.shape.publicJwk;
export const PrivateJwkSchema = PublicJwkSchema.extend({ d: z.string().length(43) });

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
