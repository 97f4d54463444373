import { z } from "zod";
import { isBallotString } from "../../shared/quorum/ballot.ts";
import { isValidKey } from "../../shared/storage/partition.ts";
import { BATCH_KEYS_MAX, SCAN_LIMIT_MAX } from "../../shared/storage/ports.ts";

/** Wire format of the internal acceptor endpoint: the AcceptorPort calls as JSON. */
const Key = z.string().refine(isValidKey, "invalid key");
const Ballot = z.string().refine(isBallotString, "invalid ballot");
/** A register value is JSON text; 64 KiB is far above any seat or order record. */
export const VALUE_LENGTH_MAX = 65_536;

export const PrepareBody = z.object({
  keys: z.array(Key).min(1).max(BATCH_KEYS_MAX),
  ballot: Ballot.refine((b) => b !== "", "ballot required"),
});
export const AcceptBody = z.object({
  entries: z
    .array(
      z.object({
        key: Key,
        ballot: Ballot.refine((b) => b !== "", "ballot required"),
        value: z.string().max(VALUE_LENGTH_MAX).nullable(),
        next: Ballot.optional(),
      }),
    )
    .min(1)
    .max(BATCH_KEYS_MAX),
});
export const DeleteBody = z.object({
  entries: z
    .array(
      z.object({
        key: Key,
        accepted: Ballot.refine((b) => b !== "", "ballot required"),
        promised: Ballot,
      }),
    )
    .min(1)
    .max(BATCH_KEYS_MAX),
});
export const ReadBody = z.object({ keys: z.array(Key).min(1).max(BATCH_KEYS_MAX) });
export const ScanBody = z.object({
  prefix: z.string().max(512),
  cursor: z.string().max(2048).optional(),
  limit: z.number().int().min(1).max(SCAN_LIMIT_MAX).optional(),
});

export const ACCEPTOR_OPS = ["prepare", "accept", "delete", "read", "scan"] as const;
export type AcceptorOp = (typeof ACCEPTOR_OPS)[number];
export const ACCEPTOR_PATH = "/internal/acceptor";
