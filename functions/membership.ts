import { MembershipAcceptor } from "../shared/quorum/membership.ts";
import { AuditedAcceptor } from "./audit/acceptor.ts";
import type { AppDeps, Deps } from "./deps.ts";

/**
 * Wraps the host's own store in the membership decorator (shared/quorum/membership.ts) once per
 * app instance, inside the audit log, so both ways into the store carry its membership: the
 * in-process coordinator and the internal endpoint peers call.
 */
export function withMembership(deps: Deps): Deps {
  // Already wrapped, or already audited (wrapping outside the log would log accepts twice).
  if (membershipOf(deps) || deps.acceptor instanceof AuditedAcceptor) return deps;
  const restore = deps.settings.TESSERA_STORE_RESTORE;
  const acceptor = new MembershipAcceptor(deps.acceptor, deps.now, {
    ...(restore !== undefined ? { restore } : {}),
  });
  return { ...deps, acceptor };
}

/** This instance's membership decorator, when its store has one (every app built by createApp). */
export function membershipOf(deps: AppDeps): MembershipAcceptor | undefined {
  let a = deps.acceptor;
  if (a instanceof AuditedAcceptor) a = a.inner;
  return a instanceof MembershipAcceptor ? a : undefined;
}
