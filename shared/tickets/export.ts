import { z } from "zod";
import type { PrivateJwk, ProviderId } from "../config.ts";
import { toBase64Url } from "../crypto/base64.ts";
import {
  decodeProviderHeader,
  type JwsSignature,
  signDetached,
  verifyDetached,
} from "../crypto/jws.ts";
import { canonicalBytes } from "../formats/canonical-json.ts";
import {
  type Revocation,
  type RevocationClaims,
  RevocationSchema,
  verifyRevocationWith,
} from "./revocation.ts";
import { type Ticket, TicketSchema, TicketSignatureSchema } from "./sign.ts";
import {
  ClusterId,
  ClusterKeys,
  keysCoveredBy,
  normalizeTrust,
  type TrustedCluster,
  type TrustInput,
} from "./trust.ts";
import { type TicketVerification, verifyTicketWith } from "./verify.ts";

/**
 * A buyer's export: every ticket of one holder in one self-describing file, verifiable offline.
 * The file is "signed" because each ticket carries its quorum signatures and the file carries the
 * keys that check them. Those keys are self-supplied: they prove the file is internally consistent,
 * not that it came from the real cluster, so without `trusted` keys obtained independently (the
 * cluster's published keys) the result is never `valid`, only `selfConsistent`. An optional export-level signature by the exporting provider covers
 * the whole file (so the ticket list itself cannot be trimmed or padded unnoticed).
 */
export const EXPORT_FORMAT = "tessera.tickets";
export const EXPORT_FORMAT_VERSION = 1;
/** `typ` of an export-level signature, so it can never pass for a ticket signature or vice versa. */
export const EXPORT_SIGNATURE_TYP = "tessera.tickets+jws";
/** One holder's tickets; a bound keeps a hostile file from costing unbounded verification work. */
export const MAX_EXPORT_TICKETS = 10_000;
/** Exporting providers are at most the three of the cluster, plus rotation overlap. */
const MAX_EXPORT_SIGNATURES = 8;

export const TicketExport = z.object({
  format: z.literal(EXPORT_FORMAT),
  formatVersion: z.literal(EXPORT_FORMAT_VERSION),
  clusterId: ClusterId,
  exportedAt: z.iso.datetime({ offset: true }),
  holder: z.string().min(1).max(255),
  keys: ClusterKeys,
  /** Keys of clusters this one forked from, for tickets sold before the fork. */
  formerKeys: z.array(ClusterKeys).max(15).optional(),
  tickets: z.array(TicketSchema).max(MAX_EXPORT_TICKETS),
  /** The co-signed revocations of those of `tickets` that no longer admit anyone (refunded). */
  revocations: z.array(RevocationSchema).max(MAX_EXPORT_TICKETS).optional(),
  signatures: z.array(TicketSignatureSchema).min(1).max(MAX_EXPORT_SIGNATURES).optional(),
});
export type TicketExport = z.infer<typeof TicketExport>;

export interface BuildExportInput {
  clusterId: string;
  exportedAt: string;
  holder: string;
  keys: ClusterKeys;
  formerKeys?: ClusterKeys[];
  tickets: Ticket[];
  revocations?: Revocation[];
}

export function buildExport(input: BuildExportInput): TicketExport {
  return TicketExport.parse({
    format: EXPORT_FORMAT,
    formatVersion: EXPORT_FORMAT_VERSION,
    ...input,
  });
}

/** The bytes an export-level signature covers: the canonical file without `signatures`. */
function exportPayload(file: TicketExport): string {
  const { signatures: _omit, ...rest } = file;
  return toBase64Url(canonicalBytes(rest));
}

/** Adds the exporting provider's signature over the whole file. */
export async function signExport(
  file: TicketExport,
  key: PrivateJwk,
  provider: ProviderId,
): Promise<TicketExport> {
  const f = TicketExport.parse(file);
  const { signatures: _omit, ...unsigned } = f;
  const payload = canonicalBytes(unsigned);
  const sig = await signDetached(payload, key, provider, EXPORT_SIGNATURE_TYP);
  return { ...f, signatures: [...(f.signatures ?? []), sig] };
}

export type ExportReasonCode =
  | "malformed"
  | "keys-mismatch"
  | "holder-mismatch"
  | "invalid-ticket"
  | "bad-export-signature"
  | "invalid-revocation";

export interface ExportReason {
  code: ExportReasonCode;
  detail: string;
  /** Index in `tickets` when about one ticket. */
  ticket?: number;
}

export interface ExportVerification {
  /** Authentic and consistent: `selfConsistent && authenticated`. */
  valid: boolean;
  /** Every check passed against the keys used, whoever supplied them. */
  selfConsistent: boolean;
  /** The keys used were the caller's `trusted` keys; keys shipped in the file prove nothing. */
  authenticated: boolean;
  /** "self-supplied": checked against keys carried in the file only; "trusted": against yours. */
  keysSource: "self-supplied" | "trusted";
  reasons: ExportReason[];
  tickets: {
    index: number;
    tid?: string;
    result: TicketVerification;
    /** Set when a revocation in the file (or given) that verifies names this ticket. */
    revoked?: RevocationClaims;
  }[];
  exportSignatures: { provider?: ProviderId; kid?: string; valid: boolean }[];
}

export interface VerifyExportOptions {
  /** Keys you obtained independently of the file (any shape normalizeTrust accepts). */
  trusted?: TrustInput;
  /** Revoked tickets known apart from the file (an event's feed, checked: `checkFeeds`). */
  revoked?: ReadonlyMap<string, RevocationClaims>;
}

export async function verifyExport(
  file: unknown,
  opts: VerifyExportOptions = {},
): Promise<ExportVerification> {
  const keysSource = opts.trusted === undefined ? "self-supplied" : "trusted";
  const parsed = TicketExport.safeParse(file);
  if (!parsed.success) {
    return {
      valid: false,
      selfConsistent: false,
      authenticated: keysSource === "trusted",
      keysSource,
      reasons: [{ code: "malformed", detail: z.prettifyError(parsed.error) }],
      tickets: [],
      exportSignatures: [],
    };
  }
  const f = parsed.data;
  const reasons: ExportReason[] = [];
  const inFile = normalizeTrust([f.keys, ...(f.formerKeys ?? [])]);
  if (f.keys.clusterId !== f.clusterId) {
    reasons.push({ code: "keys-mismatch", detail: "keys.clusterId differs from clusterId" });
  }
  let trusted: TrustedCluster[] = inFile;
  if (opts.trusted !== undefined) {
    trusted = normalizeTrust(opts.trusted);
    for (const c of inFile) {
      if (!keysCoveredBy(c, trusted)) {
        reasons.push({
          code: "keys-mismatch",
          detail: `the file's keys for cluster "${c.clusterId}" are not all among the trusted keys`,
        });
      }
    }
  }

  const revoked = new Map(opts.revoked ?? []);
  for (const [index, r] of (f.revocations ?? []).entries()) {
    const v = await verifyRevocationWith(r, trusted);
    if (v.valid) revoked.set(v.claims.tid, v.claims);
    else {
      const why = v.reasons.map((x) => x.code).join(", ");
      reasons.push({ code: "invalid-revocation", detail: `revocation ${index}: ${why}` });
    }
  }

  const tickets: ExportVerification["tickets"] = [];
  for (const [index, t] of f.tickets.entries()) {
    const result = await verifyTicketWith(t, trusted);
    const tid = result.valid ? result.claims.tid : result.claims?.tid;
    const gone = tid === undefined ? undefined : revoked.get(tid);
    tickets.push({
      index,
      result,
      ...(tid === undefined ? {} : { tid }),
      ...(gone === undefined ? {} : { revoked: gone }),
    });
    if (!result.valid) {
      const why = result.reasons.map((r) => r.code).join(", ");
      reasons.push({
        code: "invalid-ticket",
        detail: `ticket ${tid ?? index}: ${why}`,
        ticket: index,
      });
    } else if (result.claims.hld !== f.holder) {
      reasons.push({
        code: "holder-mismatch",
        detail: `ticket ${tid} belongs to another holder`,
        ticket: index,
      });
    }
  }

  const exportSignatures: ExportVerification["exportSignatures"] = [];
  if (f.signatures) {
    const payload = exportPayload(f);
    for (const sig of f.signatures) {
      const ok = await verifyExportSignature(payload, sig, trusted, f.clusterId);
      exportSignatures.push(ok);
      if (!ok.valid) {
        reasons.push({
          code: "bad-export-signature",
          detail: `export signature by ${ok.provider ?? "?"} does not verify`,
        });
      }
    }
  }
  const selfConsistent = reasons.length === 0;
  const authenticated = keysSource === "trusted";
  return {
    valid: selfConsistent && authenticated,
    selfConsistent,
    authenticated,
    keysSource,
    reasons,
    tickets,
    exportSignatures,
  };
}

async function verifyExportSignature(
  payload: string,
  sig: JwsSignature,
  trusted: readonly TrustedCluster[],
  clusterId: string,
): Promise<{ provider?: ProviderId; kid?: string; valid: boolean }> {
  const h = decodeProviderHeader(sig.protected);
  if (!h || h.typ !== EXPORT_SIGNATURE_TYP) return { valid: false };
  const key = trusted
    .find((c) => c.clusterId === clusterId)
    ?.providers[h.tessera_provider].find((k) => k.kid === h.kid);
  const valid = key !== undefined && (await verifyDetached(payload, sig, key));
  return { provider: h.tessera_provider, kid: h.kid, valid };
}
