import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Sha256, sha256Hex } from "../../shared/crypto/sha256.ts";

const node = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("incremental SHA-256", () => {
  it("matches the FIPS 180-4 examples", () => {
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("property: any split into updates equals node:crypto over the whole", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (bytes, cuts) => {
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const h = new Sha256();
          let prev = 0;
          for (const p of [...points, bytes.length]) {
            h.update(bytes.subarray(prev, p));
            prev = p;
          }
          expect(h.hex()).toBe(node(bytes));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("hashes a multi-MiB input the same as node:crypto", () => {
    const big = new Uint8Array(3 * 2 ** 20 + 17).map((_, i) => (i * 31) & 0xff);
    expect(sha256Hex(big)).toBe(node(big));
  });

  it("refuses use after digest", () => {
    const h = new Sha256().update("x");
    h.digest();
    expect(() => h.update("y")).toThrow();
    expect(() => h.digest()).toThrow();
  });
});
