import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../scripts/cli/main.ts";
import { toCompact } from "../../shared/tickets/compact.ts";
import { buildExport } from "../../shared/tickets/export.ts";
import { captureConsole } from "../support/console.ts";
import { clusterKeysOf, makeTestCluster, sampleClaims, signBy } from "../tickets/fixtures.ts";

/**
 * Issue #11 item 4: `tessera ticket verify` called a ticket VALID (exit 0, `"valid": true`) when
 * it verified only against keys shipped inside the file, so anyone could forge one with made-up
 * keys. Authenticity must come from keys the verifier already trusts.
 */

type TC = Awaited<ReturnType<typeof makeTestCluster>>;
const UNAUTHENTICATED = 3;
let dir: string;
let real: TC;
let forger: TC;
let realKeys: string;
const out = captureConsole();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-forged-"));
  real = await makeTestCluster({}, "test-cluster");
  // The forger names the real cluster id but signs with keys of its own making.
  forger = await makeTestCluster({}, "test-cluster");
  realKeys = await writeJson("real-keys.json", clusterKeysOf(real));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

async function writeJson(name: string, v: unknown): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, typeof v === "string" ? v : JSON.stringify(v));
  return p;
}

/** No trusted keys anywhere: no env var, no config file in a fresh config home. */
function noConfiguredKeys(): void {
  vi.stubEnv("TESSERA_TRUSTED_KEYS", "");
  vi.stubEnv("XDG_CONFIG_HOME", join(dir, "empty-config"));
}

async function forgedFile(): Promise<string> {
  const t = await signBy(forger, sampleClaims());
  return writeJson("forged.json", { ticket: t, keys: clusterKeysOf(forger) });
}

async function forgedExport(): Promise<string> {
  const t = await signBy(forger, sampleClaims());
  const exp = buildExport({
    clusterId: "test-cluster",
    exportedAt: "2026-01-01T00:00:00Z",
    holder: sampleClaims().hld,
    keys: clusterKeysOf(forger),
    tickets: [t],
  });
  return writeJson("forged-export.json", exp);
}

describe("ticket verify with keys embedded in the file only", () => {
  it("a ticket forged with made-up embedded keys is not VALID and exits with a distinct code", async () => {
    noConfiguredKeys();
    const code = await main(["ticket", "verify", await forgedFile()]);
    const text = out.join("\n");
    expect(code).toBe(UNAUTHENTICATED);
    expect(text).not.toMatch(/^VALID/m);
    expect(text).toMatch(/NOT AUTHENTICATED/);
  });

  it("--json says valid false and authenticated false for the forged ticket", async () => {
    noConfiguredKeys();
    const code = await main(["ticket", "verify", await forgedFile(), "--json"]);
    const r = JSON.parse(out.join("\n"));
    expect(code).toBe(UNAUTHENTICATED);
    expect(r).toMatchObject({
      valid: false,
      authenticated: false,
      selfConsistent: true,
      keysSource: "self-supplied",
    });
  });

  it("a forged buyer export is not VALID either, in text and JSON", async () => {
    noConfiguredKeys();
    const p = await forgedExport();
    expect(await main(["ticket", "verify", p])).toBe(UNAUTHENTICATED);
    expect(out.join("\n")).not.toMatch(/^VALID/m);
    expect(out.join("\n")).toMatch(/NOT AUTHENTICATED/);
    out.length = 0;
    expect(await main(["ticket", "verify", p, "--json"])).toBe(UNAUTHENTICATED);
    expect(JSON.parse(out.join("\n"))).toMatchObject({ valid: false, authenticated: false });
  });

  it("the forged ticket is INVALID against keys from --keys, the env var or the config file", async () => {
    noConfiguredKeys();
    const forged = await forgedFile();
    expect(await main(["ticket", "verify", forged, "--keys", realKeys])).toBe(1);
    vi.stubEnv("TESSERA_TRUSTED_KEYS", realKeys);
    expect(await main(["ticket", "verify", forged])).toBe(1);
    vi.stubEnv("TESSERA_TRUSTED_KEYS", "");
    const home = join(dir, "config-home");
    await rm(home, { recursive: true, force: true });
    await import("node:fs/promises").then((fs) =>
      fs.mkdir(join(home, "tessera"), { recursive: true }),
    );
    await writeFile(
      join(home, "tessera", "trusted-keys.json"),
      JSON.stringify(clusterKeysOf(real)),
    );
    vi.stubEnv("XDG_CONFIG_HOME", home);
    expect(await main(["ticket", "verify", forged])).toBe(1);
    expect(await main(["ticket", "verify", await forgedExport()])).toBe(1);
  });

  it("a genuine ticket is authenticated (exit 0) with trusted keys from --keys or the env var", async () => {
    noConfiguredKeys();
    const t = await signBy(real, sampleClaims());
    const file = await writeJson("genuine.json", { ticket: t, keys: clusterKeysOf(real) });
    expect(await main(["ticket", "verify", file, "--keys", realKeys, "--json"])).toBe(0);
    expect(JSON.parse(out.join("\n"))).toMatchObject({
      valid: true,
      authenticated: true,
      keysSource: "trusted",
    });
    vi.stubEnv("TESSERA_TRUSTED_KEYS", realKeys);
    expect(await main(["ticket", "verify", file])).toBe(0);
    const compact = await writeJson("genuine.txt", toCompact(t, { maxSignatures: 2 }));
    expect(await main(["ticket", "verify", compact])).toBe(0);
  });
});
