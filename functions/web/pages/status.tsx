/** @jsxImportSource hono/jsx */
import type { ClusterStatus } from "../status-types.ts";

/** `/status`: rendered on the server from every provider's /health; the page refreshes itself. */
export const StatusPage = ({ st }: { st: ClusterStatus }) => (
  <>
    <h1>Cluster status</h1>
    <p>
      Tessera runs on three providers. Every sale needs two of their stores (a quorum); browsing
      needs any one provider.
    </p>
    <div id="status-report">
      <p id="quorum" class={st.quorum.available ? "notice ok" : "notice error"}>
        {st.quorum.available
          ? `Quorum available: ${st.quorum.storesUp} of ${st.providers.length} stores answer (${st.quorum.needed} needed). Sales and purchases work.`
          : `Quorum NOT available: only ${st.quorum.storesUp} of ${st.providers.length} stores answer (${st.quorum.needed} needed). Browsing works; holds and purchases wait.`}
      </p>
      <div class="table-wrap">
        <table>
          <caption class="sr-only">Providers of cluster {st.clusterId}</caption>
          <thead>
            <tr>
              <th scope="col">Provider</th>
              <th scope="col">Answering</th>
              <th scope="col">Store</th>
              <th scope="col">Reaches</th>
              <th scope="col">Response time</th>
            </tr>
          </thead>
          <tbody id="status-rows">
            {st.providers.map((p) => (
              <tr data-provider={p.provider} data-store-ok={String(p.store?.ok ?? false)}>
                <th scope="row">
                  {p.provider}
                  {p.provider === st.servedBy ? " (this page)" : ""}
                </th>
                <td>{p.reachable ? "yes" : `no${p.error ? ` (${p.error})` : ""}`}</td>
                <td>
                  {p.store
                    ? `${p.store.name}: ${p.store.ok ? "ok" : "failing"}${p.store.latencyMs !== undefined ? ` (${p.store.latencyMs} ms)` : ""}`
                    : "unknown"}
                </td>
                <td>
                  {p.peers
                    ? Object.entries(p.peers)
                        .map(([k, v]) => `${k}: ${v.ok ? "yes" : "no"}`)
                        .join(", ")
                    : "unknown"}
                </td>
                <td>{p.latencyMs !== undefined ? `${p.latencyMs} ms` : "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted">
        Checked at{" "}
        <time id="checked-at" datetime={st.checkedAt}>
          {st.checkedAt}
        </time>{" "}
        by {st.servedBy}; refreshed every few seconds.
      </p>
    </div>
  </>
);
