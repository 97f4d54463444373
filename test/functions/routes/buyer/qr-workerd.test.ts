import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { describe, expect, it } from "vitest";
import { ticketQrSvg } from "../../../../shared/tickets/qr.ts";

/**
 * The QR route imports `qrcode`, a Node/browser library: bundled as wrangler bundles the Worker
 * (browser field, workerd conditions) it must render in workerd exactly what it renders in Node.
 */
describe("ticket QR code in workerd", () => {
  it("renders the same SVG in workerd as in Node", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tessera-qr-"));
    try {
      const qr = resolve(import.meta.dirname, "../../../../shared/tickets/qr.ts");
      const entry = join(dir, "entry.ts");
      await writeFile(
        entry,
        `import { ticketQrSvg } from ${JSON.stringify(qr)};
export default { async fetch(req: Request) {
  const text = new URL(req.url).searchParams.get("t") ?? "";
  return new Response(await ticketQrSvg(text), { headers: { "content-type": "image/svg+xml" } });
} };`,
      );
      const out = await build({
        entryPoints: [entry],
        bundle: true,
        write: false,
        format: "esm",
        platform: "browser",
        conditions: ["workerd", "worker", "browser"],
        mainFields: ["browser", "module", "main"],
        target: "es2022",
      });
      const mf = new Miniflare({
        modules: true,
        script: out.outputFiles[0]!.text,
        compatibilityDate: "2026-04-26",
      });
      try {
        const compact = `T1.${"A".repeat(300)}.0.${"b".repeat(86)}.1.${"c".repeat(86)}`;
        const r = await mf.dispatchFetch(`http://localhost/?t=${encodeURIComponent(compact)}`);
        expect(r.status).toBe(200);
        expect(await r.text()).toBe(await ticketQrSvg(compact));
      } finally {
        await mf.dispose();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
