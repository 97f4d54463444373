import { fromBase64UrlStrict, toBase64Url } from "../../shared/crypto/base64.ts";

/** "b_" + 40 base64url characters = 240 bits of HMAC-SHA-256: collision-free in practice, and
 * short enough to sit inside a 64-character key segment with room for the prefix. */
const DIGEST_CHARS = 40;

/**
 * The key segment of a buyer. A `sub` claim may hold '/', spaces or more than 64 characters, none of
 * which a key segment allows, so keys and SeatService callers use a digest of it instead:
 * - keyed (HMAC under TESSERA_BUYER_ID_KEY, a secret every provider of the cluster shares), so the
 *   segments in public records (audit log keys) cannot be linked to a guessed buyer id;
 * - over the issuer and the subject, so two identity providers' users with the same `sub` are
 *   two buyers.
 * Deterministic, so every provider derives the same segment for the same buyer.
 */
export class BuyerIds {
  private readonly key: Promise<CryptoKey>;

  constructor(
    secret: string,
    /** This cluster's buyers' OIDC issuer. */
    readonly issuer: string,
    /** Issuers whose users are this issuer's users by the same `sub` (TESSERA_OIDC_ISSUER_ALIASES:
     * the same identity provider under a former cluster's or an old URL). */
    private readonly aliases: readonly string[] = [],
  ) {
    this.key = crypto.subtle.importKey(
      "raw",
      fromBase64UrlStrict(secret) as BufferSource,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
  }

  /** True when `issuer`'s users are this cluster's buyers (it is the issuer or an alias of it). */
  isOwn(issuer: string): boolean {
    return issuer === this.issuer || this.aliases.includes(issuer);
  }

  /** The segment of (`issuer`, `sub`); the issuer defaults to this cluster's. */
  async segment(sub: string, issuer = this.issuer): Promise<string> {
    const canonical = this.isOwn(issuer) ? this.issuer : issuer;
    const mac = await crypto.subtle.sign(
      "HMAC",
      await this.key,
      new TextEncoder().encode(`${canonical}\n${sub}`),
    );
    return `b_${toBase64Url(new Uint8Array(mac)).slice(0, DIGEST_CHARS)}`;
  }
}
