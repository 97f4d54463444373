import type { PrivateJwk, ProviderId } from "../../shared/config.ts";
import { toBase64Url } from "../../shared/crypto/base64.ts";
import { signRequest } from "../../shared/crypto/http-signature.ts";
import type {
  AcceptEntry,
  AcceptorPort,
  AcceptorRecord,
  AcceptReply,
  PrepareReply,
  PrepareRequest,
  ScanPage,
} from "../../shared/storage/ports.ts";
import { ACCEPTOR_PATH, type AcceptorOp } from "./wire.ts";

export class PeerError extends Error {
  override name = "PeerError";
}

interface RemoteAcceptorOptions {
  /** Provider we call, and its base URL. */
  to: ProviderId;
  url: string;
  /** Our signing key: the receiver checks it against the cluster configuration. */
  key: PrivateJwk;
  now: () => number;
  fetch?: typeof fetch;
  /** A peer that does not answer within this time counts as no reply for this round. */
  timeoutMs?: number;
}

/** Peer time-out: above one WAN round trip with a slow store, below a serverless time limit. */
export const PEER_TIMEOUT_MS = 3000;

/** Another provider's acceptor, reached over its signed internal endpoint. */
export class RemoteAcceptor implements AcceptorPort {
  constructor(private readonly o: RemoteAcceptorOptions) {}

  private async call<T>(op: AcceptorOp | "ping", payload: unknown): Promise<T> {
    const path = `${ACCEPTOR_PATH}/${op}`;
    const body = new TextEncoder().encode(JSON.stringify(payload));
    const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(18)));
    const headers = await signRequest({
      method: "POST",
      path,
      body,
      to: this.o.to,
      key: this.o.key,
      createdS: Math.floor(this.o.now() / 1000),
      nonce,
    });
    const res = await (this.o.fetch ?? fetch)(`${this.o.url}${path}`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(this.o.timeoutMs ?? PEER_TIMEOUT_MS),
    });
    if (!res.ok) {
      throw new PeerError(`${this.o.to} ${op}: HTTP ${res.status} ${await res.text()}`);
    }
    return (await res.json()) as T;
  }

  prepare(req: PrepareRequest): Promise<PrepareReply[]> {
    return this.call("prepare", { keys: req.keys, ballot: req.ballot });
  }
  accept(entries: readonly AcceptEntry[]): Promise<AcceptReply[]> {
    return this.call("accept", { entries });
  }
  read(keys: readonly string[]): Promise<AcceptorRecord[]> {
    return this.call("read", { keys });
  }
  scan(prefix: string, opts: { cursor?: string; limit?: number } = {}): Promise<ScanPage> {
    return this.call("scan", { prefix, ...opts });
  }
  async ping(): Promise<void> {
    await this.call("ping", {});
  }
}
