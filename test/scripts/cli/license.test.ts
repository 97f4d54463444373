import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../../scripts/cli/main.ts";
import { verifyLicense } from "../../../shared/auth/license.ts";
import { verifyTheaterToken } from "../../../shared/auth/theater-token.ts";

let dir: string;
const out: string[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-license-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
  out.length = 0;
});

/** Runs the CLI, capturing stdout lines (stderr is captured too so the test log stays clean). */
async function cli(...args: string[]) {
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation(() => {});
  const code = await main(["license", ...args]);
  vi.restoreAllMocks();
  const stdout = out.join("\n");
  out.length = 0;
  return { code, stdout };
}

describe("tessera license", () => {
  it("keygen → issue → inspect → token, and the results verify", async () => {
    const gov = join(dir, "gov.jwk");
    const th = join(dir, "theater.jwk");
    const g = await cli("governance-keygen", "--out", gov);
    expect(g.code).toBe(0);
    const govPublic = JSON.parse(g.stdout);
    expect(govPublic).not.toHaveProperty("d");
    expect((await stat(gov)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(gov, "utf8"))).toHaveProperty("d");
    // Refuses to overwrite a key.
    expect((await cli("governance-keygen", "--out", gov)).code).toBe(1);

    expect((await cli("theater-keygen", "--out", th)).code).toBe(0);
    const lic = join(dir, "odeon.license");
    const issued = await cli(
      "issue",
      "--governance-key",
      gov,
      "--theater-id",
      "th-odeon",
      "--name",
      "Odéon",
      "--theater-key",
      th,
      "--scopes",
      "venues events",
      "--days",
      "30",
      "--cluster",
      "local-dev",
      "--out",
      lic,
    );
    expect(issued.code).toBe(0);
    const license = (await readFile(lic, "utf8")).trim();
    const v = await verifyLicense(license, {
      governanceKeys: [govPublic],
      now: Date.now(),
      revoked: new Set(),
      clusterId: "local-dev",
    });
    expect(v).toMatchObject({
      ok: true,
      license: { theaterId: "th-odeon", scopes: ["venues", "events"] },
    });

    const pub = join(dir, "gov.pub.json");
    await writeFile(pub, JSON.stringify([govPublic]));
    const ins = await cli("inspect", lic, "--governance-keys", pub, "--cluster", "local-dev");
    expect(ins.code).toBe(0);
    expect(ins.stdout).toContain('"sub": "th-odeon"');
    expect(ins.stdout).toMatch(/^valid$/m);
    const wrong = await cli("inspect", lic, "--governance-keys", pub, "--cluster", "elsewhere");
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain("wrong-cluster");

    const tok = await cli(
      "token",
      "--license",
      lic,
      "--theater-key",
      th,
      "--method",
      "post",
      "--path",
      "/v1/events",
    );
    expect(tok.code).toBe(0);
    const r = await verifyTheaterToken(tok.stdout.trim(), {
      governanceKeys: [govPublic],
      now: Date.now(),
      revoked: new Set(),
      clusterId: "local-dev",
      method: "POST",
      path: "/v1/events",
    });
    expect(r).toMatchObject({ ok: true, theater: { id: "th-odeon", name: "Odéon" } });

    // Issue with just the theater's public key file.
    const thPub = join(dir, "theater.pub.json");
    await writeFile(
      thPub,
      JSON.stringify(
        JSON.parse((await cli("theater-keygen", "--out", join(dir, "t2.jwk"))).stdout),
      ),
    );
    const printed = await cli(
      "issue",
      "--governance-key",
      gov,
      "--theater-id",
      "th-two",
      "--name",
      "Two",
      "--theater-public-key",
      thPub,
      "--scopes",
      "sales",
      "--days",
      "1",
      "--cluster",
      "local-dev",
    );
    expect(printed.code).toBe(0);
    expect(printed.stdout.split(".")).toHaveLength(3);
  });

  it("exits 2 on usage errors", async () => {
    expect((await cli("issue", "--days", "3")).code).toBe(2);
    expect((await cli("bogus")).code).toBe(2);
    expect((await cli("issue", "--nope")).code).toBe(2);
    expect((await cli("token", "--ttl", "900", "--license", "x")).code).not.toBe(0);
  });
});
