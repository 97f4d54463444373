import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CanonicalJsonError, canonicalJson } from "../../shared/formats/canonical-json.ts";

describe("canonical JSON", () => {
  it("sorts members at every depth and drops undefined members", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it("matches RFC 8785 on its string and number examples", () => {
    expect(canonicalJson({ "€": 1, "\r": 2, "1": 3, ö: 4 })).toBe('{"\\r":2,"1":3,"ö":4,"€":1}');
    // RFC 8785 §3.2.2.3 writes this one as 333333333.33333329, which parses to the same double.
    expect(canonicalJson([1e21, 1e-7, -0, 333333333.3333333])).toBe(
      "[1e+21,1e-7,0,333333333.3333333]",
    );
  });

  it("refuses what JSON cannot carry", () => {
    for (const bad of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      1n,
      () => 1,
      [undefined],
      new Date(0),
    ]) {
      expect(() => canonicalJson(bad)).toThrow(CanonicalJsonError);
    }
  });

  it("property: parse(canonical(x)) is x, and canonical is stable under key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = canonicalJson(v);
        expect(canonicalJson(JSON.parse(c))).toBe(c);
        const shuffled = JSON.parse(JSON.stringify(v), (_k, x) =>
          x && typeof x === "object" && !Array.isArray(x)
            ? Object.fromEntries(Object.entries(x).reverse())
            : x,
        );
        expect(canonicalJson(shuffled)).toBe(c);
      }),
    );
  });
});
