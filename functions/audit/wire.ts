import { toHex } from "../../shared/crypto/sha256.ts";
import type { AppDeps, Deps } from "../deps.ts";
import { AuditedAcceptor } from "./acceptor.ts";
import { streamId } from "./layout.ts";
import { AuditLog } from "./log.ts";

/** 6 random bytes: two instances of one provider starting in the same millisecond still differ. */
const TAG_BYTES = 6;

/**
 * Wraps the host's acceptor once per app instance, so both ways into this provider's store go
 * through the log: the in-process coordinator (services) and the internal endpoint that peers call.
 * Returns the deps every route should see, and the log (for the audit routes and the scheduled flush).
 */
export function withAudit(deps: Deps): { deps: Deps; audit: AuditLog } {
  if (deps.acceptor instanceof AuditedAcceptor) return { deps, audit: deps.acceptor.log };
  const now = deps.now;
  const tag = toHex(crypto.getRandomValues(new Uint8Array(TAG_BYTES)));
  const audit = new AuditLog({
    provider: deps.provider,
    stream: streamId(deps.provider, Math.max(0, Math.floor(now())), tag),
    signingKey: deps.signingKey,
    blobs: deps.blobs,
    now,
  });
  return { deps: { ...deps, acceptor: new AuditedAcceptor(deps.acceptor, audit) }, audit };
}

/** This instance's audit log, when its acceptor is the audited one (every app built by createApp). */
export function auditLogOf(deps: AppDeps): AuditLog | undefined {
  return deps.acceptor instanceof AuditedAcceptor ? deps.acceptor.log : undefined;
}
