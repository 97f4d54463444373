import type { OpenAPIHono } from "@hono/zod-openapi";
import { Hono } from "hono";
import { type ClusterConfig, PROVIDERS } from "../../shared/config.ts";
import { withCommonContract } from "./api-contract.ts";
import { docsPage } from "./docs-page.ts";

/**
 * The API's contract and its reference page. `/openapi.json` is generated from the route
 * definitions of the finished app, so it cannot drift from what the handlers accept. It must be
 * byte-identical on all three providers (clients and tests compare them), so it holds nothing
 * provider-specific: the servers are the cluster's three URLs, which every provider configures alike.
 * `/docs` renders that document in the browser with no external assets (the machines may be
 * offline): operations by tag, parameters, schemas and a "try it" form.
 */

export const API_TITLE = "Tessera API";
export const API_VERSION = "1";

/** The OpenAPI 3.1 document of `app` (call once the app has every route). */
export function apiDocument(
  app: Pick<OpenAPIHono, "getOpenAPI31Document">,
  cluster: ClusterConfig,
) {
  return withCommonContract(
    app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: API_TITLE,
        version: API_VERSION,
        description:
          "Open ticketing served identically by three providers; writes commit when two of the " +
          "three providers' stores accept them. Any of the servers below answers every call.",
        license: { name: "AGPL-3.0-or-later", url: "https://www.gnu.org/licenses/agpl-3.0.html" },
      },
      servers: PROVIDERS.map((p) => {
        const url = cluster.providers[p].url;
        return {
          url,
          description: `${p} (${isLocal(url) ? "local" : "production"})`,
          // The whole API is public: every server is meant for any client.
          "x-internal": false,
        };
      }),
    }),
  );
}

/** A loopback server is the local stand-in cluster (`npm start`); anything else is deployed. */
function isLocal(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]";
}

/** `getDoc` is called lazily (after every route is registered) and its text cached. */
export function docsRoutes(getDoc: () => object) {
  const app = new Hono();
  let text: string | undefined;
  const docText = () => {
    text ??= JSON.stringify(getDoc());
    return text;
  };
  app.get("/openapi.json", (c) =>
    c.body(docText(), 200, {
      "content-type": "application/json",
      "access-control-allow-origin": "*",
      "cache-control": "public, max-age=300",
    }),
  );
  app.get("/docs", (c) =>
    c.html(docsPage(API_TITLE, docText()), 200, {
      "cache-control": "public, max-age=300",
    }),
  );
  return app;
}
