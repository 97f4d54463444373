import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../scripts/cli/main.ts";
import { makeTestCluster, type TestCluster } from "../../scripts/local/throwaway-cluster.ts";
import { writeBackup } from "../../shared/formats/backup.ts";
import { collect, makeSource, signedTickets } from "../formats/fixtures.ts";
import { captureConsole } from "../support/console.ts";

/**
 * Threat: a theater (or anyone) makes up provider keys, signs a backup's tickets with them, ships
 * the keys in the file, and `tessera backup verify` calls it VALID. As for tickets (item 4), keys
 * in the file may show it is self-consistent, never that it is authentic.
 */
const UNAUTHENTICATED = 3;
let dir: string;
let real: TestCluster;
let forger: TestCluster;
let forged: string;
const out = captureConsole();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-forged-backup-"));
  real = await makeTestCluster({}, "test-cluster");
  forger = await makeTestCluster({}, "test-cluster");
  const text = await collect(
    writeBackup(
      makeSource(forger, { seats: 10, soldEvery: 5, tickets: await signedTickets(forger, 2, 5) }),
    ),
  );
  forged = join(dir, "forged.json");
  await writeFile(forged, text);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

function noConfiguredKeys(): void {
  vi.stubEnv("TESSERA_TRUSTED_KEYS", "");
  vi.stubEnv("XDG_CONFIG_HOME", join(dir, "empty-config"));
}

describe("tessera backup verify with keys shipped in the file", () => {
  it("is NOT AUTHENTICATED, with a distinct exit code, in text and JSON", async () => {
    noConfiguredKeys();
    out.length = 0;
    expect(await main(["backup", "verify", forged])).toBe(UNAUTHENTICATED);
    expect(out.join("\n")).toContain("NOT AUTHENTICATED");
    expect(out.join("\n")).not.toMatch(/^VALID/m);
    out.length = 0;
    expect(await main(["backup", "verify", forged, "--json"])).toBe(UNAUTHENTICATED);
    const r = JSON.parse(out.join("\n"));
    expect(r).toMatchObject({ ok: false, selfConsistent: true, authenticated: false });
  });

  it("is INVALID against the real cluster's keys, from --keys or TESSERA_TRUSTED_KEYS", async () => {
    const keys = join(dir, "real-keys.json");
    await writeFile(keys, JSON.stringify(real.cluster));
    expect(await main(["backup", "verify", forged, "--keys", keys])).toBe(1);
    noConfiguredKeys();
    vi.stubEnv("TESSERA_TRUSTED_KEYS", keys);
    expect(await main(["backup", "verify", forged])).toBe(1);
    // The forger's own keys, trusted on purpose, do verify it (the control).
    const own = join(dir, "forger-keys.json");
    await writeFile(own, JSON.stringify(forger.cluster));
    expect(await main(["backup", "verify", forged, "--keys", own])).toBe(0);
  });
});
