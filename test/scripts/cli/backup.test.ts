import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../../../scripts/cli/main.ts";
import { makeTestCluster, type TestCluster } from "../../../scripts/local/throwaway-cluster.ts";
import { writeBackup } from "../../../shared/formats/backup.ts";
import { formatSchemas } from "../../../shared/formats/schemas.ts";
import { collect, makeSource, signedTickets } from "../../formats/fixtures.ts";
import { captureConsole } from "../../support/console.ts";

let dir: string;
let tc: TestCluster;
const out = captureConsole();
let stdout: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-backup-cli-"));
  tc = await makeTestCluster();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  stdout = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
});

describe("tessera backup", () => {
  it("verify: a written backup passes; a corrupted one fails with every issue listed", async () => {
    const text = await collect(
      writeBackup(
        makeSource(tc, { seats: 30, soldEvery: 10, tickets: await signedTickets(tc, 3, 10) }),
      ),
    );
    const p = join(dir, "b.json");
    await writeFile(p, text);
    // No trusted keys configured: the file's own keys make it self-consistent, not authentic.
    vi.stubEnv("TESSERA_TRUSTED_KEYS", "");
    vi.stubEnv("XDG_CONFIG_HOME", join(dir, "no-config"));
    expect(await main(["backup", "verify", p])).toBe(3);
    expect(out.join("\n")).toContain(
      "SELF-CONSISTENT, NOT AUTHENTICATED backup: 1 venues, 1 seatingPlans, 1 events, 30 seats, 3 orders, 3 tickets",
    );
    const keys = join(dir, "keys.json");
    await writeFile(keys, JSON.stringify(tc.cluster));
    out.length = 0;
    expect(await main(["backup", "verify", p, "--keys", keys])).toBe(0);
    expect(out.join("\n")).toContain(
      "VALID backup: 1 venues, 1 seatingPlans, 1 events, 30 seats, 3 orders, 3 tickets",
    );
    vi.unstubAllEnvs();

    const broken = JSON.parse(text);
    broken.seats[1].state = "held";
    broken.tickets[2].payload = broken.tickets[1].payload;
    await writeFile(p, JSON.stringify(broken));
    out.length = 0;
    expect(await main(["backup", "verify", p])).toBe(1);
    const o = out.join("\n");
    expect(o).toContain("checksum $.checksums.seats");
    expect(o).toContain("checksum $.checksums.tickets");
    expect(o).toMatch(/ticket \$\.tickets\[2\]: .*tampered/);
  });

  it("schema prints the backup JSON Schema; --all writes every schema", async () => {
    expect(await main(["backup", "schema"])).toBe(0);
    expect(JSON.parse(stdout)).toEqual(formatSchemas()["backup.schema.json"]);
    const d = join(dir, "schemas");
    expect(await main(["backup", "schema", "--all", "--out-dir", d])).toBe(0);
    const claims = JSON.parse(await readFile(join(d, "ticket-claims.schema.json"), "utf8"));
    expect(claims.required).toContain("tid");
    expect(await main(["backup", "schema", "--all"])).toBe(2);
  });

  it("usage and I/O errors exit 2", async () => {
    expect(await main(["backup", "verify", join(dir, "missing.json")])).toBe(2);
    expect(await main(["backup", "verify"])).toBe(2);
    expect(await main(["backup", "nope"])).toBe(2);
  });
});
