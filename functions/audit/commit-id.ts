import { toHex } from "../../shared/crypto/sha256.ts";

/**
 * The id under which every acceptor logs one accept. CASPaxos gives each (key, ballot) exactly one
 * value, and every acceptor receives the same pair, so the pair names the write identically on all
 * three providers without the proposer sending an extra id over the wire. Keys may be up to 512
 * characters but commit ids up to COMMIT_ID_MAX (128): a longer pair is named by its SHA-256.
 */
const COMMIT_ID_MAX = 128;

export async function commitIdFor(key: string, ballot: string): Promise<string> {
  const id = `${key}@${ballot}`;
  if (id.length <= COMMIT_ID_MAX) return id;
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id));
  return `sha256:${toHex(new Uint8Array(d))}`;
}
