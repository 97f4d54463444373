import { z } from "zod";
import { ProviderId } from "../../shared/config.ts";
import { DeploymentEnv } from "../../shared/env.ts";
import type { AcceptorObject } from "./acceptor-object.ts";
import type { DurableObjectNamespace, R2Bucket } from "./runtime-types.ts";

const binding = <T>(what: string, method: string) =>
  z.custom<T>(
    (v) => typeof v === "object" && v !== null && typeof Reflect.get(v, method) === "function",
    `must be a ${what} binding (declared in wrangler.toml)`,
  );

/**
 * The Worker's environment: the common TESSERA_* settings (vars and secrets) plus the two storage
 * bindings. TESSERA_PROVIDER must say "cloudflare" so that a config meant for another deployment
 * is caught here rather than by a peer refusing our signatures.
 */
export const CloudflareEnv = DeploymentEnv.extend({
  TESSERA_PROVIDER: ProviderId.extract(["cloudflare"]),
  ACCEPTORS: binding<DurableObjectNamespace<AcceptorObject>>(
    "Durable Object namespace",
    "idFromName",
  ),
  BLOBS: binding<R2Bucket>("R2 bucket", "list"),
});
export type CloudflareEnv = z.infer<typeof CloudflareEnv>;
