/**
 * Ambient declaration of the runtime module "cloudflare:workers" (provided by workerd, never
 * bundled), reduced to what this adapter imports. See runtime-types.ts for why it is hand-written.
 */
declare module "cloudflare:workers" {
  import type { DurableObjectState } from "./runtime-types.ts";

  export abstract class DurableObject<Env = unknown> {
    protected readonly ctx: DurableObjectState;
    protected readonly env: Env;
    constructor(ctx: DurableObjectState, env: Env);
  }
}
