/**
 * What a page knows about the cluster, inlined into every page as JSON (and served at
 * /web/config.json). Shared by the server that writes it and the browser code that reads it, so the
 * two cannot drift apart; type-only, so nothing of the server ends up in the browser bundle.
 */
export interface WebEndpoint {
  readonly provider: string;
  /** Base URL for API calls: "" is the origin the page came from. */
  readonly base: string;
}

export interface WebConfig {
  /** The provider that served the page. */
  readonly provider: string;
  readonly clusterId: string;
  /** Where API calls go, in order: this origin first, then the other providers. */
  readonly endpoints: readonly WebEndpoint[];
  readonly oidc: {
    readonly issuer: string;
    readonly clientId: string;
    /** Authorization endpoint; absent when the page must look it up through OIDC discovery. */
    readonly authorizationEndpoint?: string;
    /** Token endpoints to try in order (the development IdP is served by every provider). */
    readonly tokenEndpoints: readonly string[];
  };
  /** A card number the test payment provider accepts, shown as a hint on the payment form. */
  readonly testCard?: string;
}
