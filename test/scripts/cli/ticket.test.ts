import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../../scripts/cli/main.ts";
import { toBase64Url } from "../../../shared/crypto/base64.ts";
import { canonicalBytes } from "../../../shared/formats/canonical-json.ts";
import { toCompact } from "../../../shared/tickets/compact.ts";
import { buildExport } from "../../../shared/tickets/export.ts";
import { captureConsole } from "../../support/console.ts";
import { clusterKeysOf, makeTestCluster, sampleClaims, signBy } from "../../tickets/fixtures.ts";

const EXAMPLE = new URL("../../../docs/examples/ticket.json", import.meta.url).pathname;
const EXAMPLE_KEYS = new URL("../../../docs/examples/ticket-keys.json", import.meta.url).pathname;
const EXAMPLE_REVOKED = new URL("../../../docs/examples/ticket-revoked.json", import.meta.url)
  .pathname;
const EXAMPLE_FEED = new URL("../../../docs/examples/revocations.json", import.meta.url).pathname;
let dir: string;
const out = captureConsole();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-ticket-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
// Only what a test passes is trusted: not the environment's keys, not the user's config file.
beforeEach(() => {
  vi.stubEnv("TESSERA_TRUSTED_KEYS", "");
  vi.stubEnv("XDG_CONFIG_HOME", join(tmpdir(), "tessera-no-config"));
  return () => vi.unstubAllEnvs();
});

async function writeJson(name: string, v: unknown): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, typeof v === "string" ? v : JSON.stringify(v));
  return p;
}

const decode = (p: string) =>
  JSON.parse(
    new TextDecoder().decode(
      Uint8Array.from(atob(p.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)),
    ),
  );

describe("tessera ticket verify: docs/examples/ticket.json", () => {
  it("the committed example verifies with its cluster's keys (exit 0)", async () => {
    expect(await main(["ticket", "verify", EXAMPLE, "--keys", EXAMPLE_KEYS])).toBe(0);
    expect(out.join("\n")).toContain("VALID ticket");
  });

  it("the committed revoked example is REVOKED by the committed feed (exit 1); the other is not", async () => {
    const keys = ["--keys", EXAMPLE_KEYS];
    expect(await main(["ticket", "verify", EXAMPLE_REVOKED, ...keys])).toBe(0);
    out.length = 0;
    const feed = ["--revocations", EXAMPLE_FEED];
    expect(await main(["ticket", "verify", EXAMPLE_REVOKED, ...keys, ...feed])).toBe(1);
    expect(out.join("\n")).toContain("REVOKED (refunded)");
    expect(await main(["ticket", "verify", EXAMPLE, ...keys, ...feed])).toBe(0);
    // A feed entry with a signature dropped revokes nothing, and says so.
    const doc = JSON.parse(await readFile(EXAMPLE_FEED, "utf8"));
    doc.revocations[0].signatures = doc.revocations[0].signatures.slice(0, 1);
    out.length = 0;
    const weak = ["--revocations", await writeJson("weak-feed.json", doc)];
    expect(await main(["ticket", "verify", EXAMPLE_REVOKED, ...keys, ...weak])).toBe(0);
    expect(out.join("\n")).toContain("too-few-signatures");
  });

  it("without trusted keys the example is only self-consistent (exit 3)", async () => {
    expect(await main(["ticket", "verify", EXAMPLE])).toBe(3);
    expect(out.join("\n")).toContain("NOT AUTHENTICATED");
    expect(out.join("\n")).toContain("self-supplied");
  });

  it("one character of the seat changed: exit 1, tampered", async () => {
    const doc = JSON.parse(await readFile(EXAMPLE, "utf8"));
    const claims = decode(doc.ticket.payload);
    claims.seat.id = claims.seat.id.replace(/.$/, (c: string) => (c === "3" ? "4" : "3"));
    doc.ticket.payload = toBase64Url(canonicalBytes(claims));
    expect(await main(["ticket", "verify", await writeJson("seat.json", doc)])).toBe(1);
    expect(out.join("\n")).toMatch(/tampered/);
  });

  it("a signature dropped: exit 1, too-few-signatures", async () => {
    const doc = JSON.parse(await readFile(EXAMPLE, "utf8"));
    for (const i of [0, 1]) {
      const copy = structuredClone(doc);
      copy.ticket.signatures.splice(i, 1);
      expect(await main(["ticket", "verify", await writeJson(`drop${i}.json`, copy)])).toBe(1);
      expect(out.join("\n")).toMatch(/too-few-signatures/);
    }
  });

  it("cluster id swapped: exit 1, wrong-cluster", async () => {
    const doc = JSON.parse(await readFile(EXAMPLE, "utf8"));
    doc.keys.clusterId = "some-other-cluster";
    expect(await main(["ticket", "verify", await writeJson("cid.json", doc)])).toBe(1);
    expect(out.join("\n")).toMatch(/wrong-cluster/);
  });

  it("any single-character edit inside the ticket: exit 1", async () => {
    const text = await readFile(EXAMPLE, "utf8");
    const doc = JSON.parse(text);
    const start = text.indexOf('"ticket"');
    const end = text.indexOf('"keys"');
    // Every 7th position of the ticket member, each replaced by a different base64url character.
    for (let i = start + 10; i < end; i += 7) {
      const ch = text[i]!;
      if (!/[A-Za-z0-9_-]/.test(ch)) continue;
      const edited = text.slice(0, i) + (ch === "A" ? "B" : "A") + text.slice(i + 1);
      let parsed: unknown;
      try {
        parsed = JSON.parse(edited);
      } catch {
        continue;
      }
      if (JSON.stringify(parsed) === JSON.stringify(doc)) continue;
      const p = await writeJson("edit.json", edited);
      expect(await main(["ticket", "verify", p]), `edit at ${i}`).toBe(1);
    }
  });
});

describe("tessera ticket: other inputs and commands", () => {
  it("bare ticket needs --keys; compact text and exports verify; wrong --keys fail", async () => {
    const tc = await makeTestCluster();
    const t = await signBy(tc, sampleClaims());
    const bare = await writeJson("bare.json", t);
    expect(await main(["ticket", "verify", bare])).toBe(2);
    const keys = await writeJson("keys.json", tc.cluster);
    expect(await main(["ticket", "verify", bare, "--keys", keys])).toBe(0);
    const compact = await writeJson("ticket.txt", `${toCompact(t, { maxSignatures: 2 })}\n`);
    expect(await main(["ticket", "verify", compact, "--keys", keys])).toBe(0);
    const other = await makeTestCluster();
    const otherKeys = await writeJson("other.json", clusterKeysOf(other));
    expect(await main(["ticket", "verify", bare, "--keys", otherKeys])).toBe(1);
    // Embedded keys that are not the given ones: invalid even though the signatures match them.
    expect(await main(["ticket", "verify", EXAMPLE, "--keys", keys])).toBe(1);
    const exp = buildExport({
      clusterId: tc.cluster.clusterId,
      exportedAt: "2026-01-01T00:00:00Z",
      holder: sampleClaims().hld,
      keys: clusterKeysOf(tc),
      tickets: [t],
    });
    const expPath = await writeJson("export.json", exp);
    expect(await main(["ticket", "verify", expPath])).toBe(3);
    expect(await main(["ticket", "verify", expPath, "--keys", keys])).toBe(0);
    expect(await main(["ticket", "verify", expPath, "--keys", otherKeys])).toBe(1);
    out.length = 0;
    expect(await main(["ticket", "verify", expPath, "--json"])).toBe(3);
    expect(JSON.parse(out.join("\n"))).toMatchObject({
      valid: false,
      selfConsistent: true,
      keysSource: "self-supplied",
    });
    out.length = 0;
    expect(await main(["ticket", "verify", expPath, "--json", "--keys", keys])).toBe(0);
    expect(JSON.parse(out.join("\n"))).toMatchObject({ valid: true, keysSource: "trusted" });
  });

  it("qr writes a PNG and an SVG", async () => {
    const png = join(dir, "t.png");
    expect(await main(["ticket", "qr", EXAMPLE, "--out", png])).toBe(0);
    expect((await stat(png)).size).toBeGreaterThan(1000);
    const svg = join(dir, "t.svg");
    expect(await main(["ticket", "qr", EXAMPLE, "--out", svg])).toBe(0);
    expect(await readFile(svg, "utf8")).toMatch(/^<svg/);
    expect(await main(["ticket", "qr", EXAMPLE, "--out", join(dir, "t.gif")])).toBe(2);
  });

  it("example writes a file that verifies against its keys", async () => {
    const p = join(dir, "example.json");
    expect(await main(["ticket", "example", "--out", p])).toBe(0);
    expect(await main(["ticket", "verify", p])).toBe(3);
    const keys = await writeJson("example-keys.json", JSON.parse(await readFile(p, "utf8")).keys);
    expect(await main(["ticket", "verify", p, "--keys", keys])).toBe(0);
  });

  it("usage and I/O errors exit 2", async () => {
    expect(await main(["ticket", "verify", join(dir, "missing.json")])).toBe(2);
    expect(await main(["ticket", "verify", await writeJson("junk.json", "{nope")])).toBe(2);
    expect(await main(["ticket", "frobnicate"])).toBe(2);
    expect(await main(["ticket", "verify"])).toBe(2);
    expect(await main(["ticket", "verify", EXAMPLE, "--bogus"])).toBe(2);
    vi.stubEnv("TESSERA_TRUSTED_KEYS", join(dir, "missing-keys.json"));
    expect(await main(["ticket", "verify", EXAMPLE])).toBe(2);
  });
});
