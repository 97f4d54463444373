import { PROVIDERS } from "../../shared/config.ts";
import { SimulatedCardProcessor, TEST_CARDS } from "../../shared/payments/simulated-processor.ts";
import { IDP_BASE } from "../auth/dev-idp.ts";
import type { Services } from "../services/index.ts";
import type { WebConfig } from "./config-types.ts";

/** The OAuth client id of the web front (a public client: PKCE, no secret). */
export const WEB_CLIENT_ID = "tessera-web";

/**
 * The page's view of the cluster: the providers to fall back to, and where buyers sign in. Built
 * from the deployment's own settings, so every provider tells its pages about the other two.
 */
export function webConfig(s: Services): WebConfig {
  const deps = s.deps;
  const others = PROVIDERS.filter((p) => p !== deps.provider);
  const settings = deps.settings;
  const issuer = settings.TESSERA_OIDC_ISSUER.replace(/\/+$/, "");
  // The development IdP runs on every provider with one key and issuer name, so any of them can
  // redeem a code; a real IdP is found through its discovery document by the page itself.
  const devIdp = settings.TESSERA_DEV_IDP_KEY !== undefined;
  return {
    provider: deps.provider,
    clusterId: deps.cluster.clusterId,
    endpoints: [
      { provider: deps.provider, base: "" },
      ...others.map((p) => ({ provider: p, base: deps.cluster.providers[p].url })),
    ],
    oidc: {
      issuer,
      clientId: WEB_CLIENT_ID,
      ...(devIdp ? { authorizationEndpoint: `${issuer}/authorize` } : {}),
      tokenEndpoints: devIdp
        ? [
            `${IDP_BASE}/token`,
            ...others.map((p) => `${deps.cluster.providers[p].url}${IDP_BASE}/token`),
          ]
        : [],
    },
    ...(s.payments instanceof SimulatedCardProcessor ? { testCard: TEST_CARDS.success } : {}),
  };
}

/** Origins the page may call (Content-Security-Policy connect-src). */
export function connectOrigins(cfg: WebConfig): string[] {
  const origins = new Set<string>();
  for (const e of cfg.endpoints) if (e.base) origins.add(new URL(e.base).origin);
  for (const t of cfg.oidc.tokenEndpoints) if (/^https?:/.test(t)) origins.add(new URL(t).origin);
  origins.add(new URL(cfg.oidc.issuer).origin);
  return [...origins];
}
