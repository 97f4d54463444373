import { describe, expect, it } from "vitest";
import { canonicalJson, requestHash } from "../../shared/seats/hash.ts";

describe("request fingerprint", () => {
  it("writes canonical JSON: sorted keys, undefined fields dropped, lists in order", () => {
    expect(canonicalJson({ b: [1, null, "x"], a: { d: undefined, c: true } })).toBe(
      '{"a":{"c":true},"b":[1,null,"x"]}',
    );
    expect(canonicalJson(undefined)).toBe("null");
    expect(canonicalJson([undefined, { z: 1, y: 2 }])).toBe('[null,{"y":2,"z":1}]');
  });

  // Pinned values: a fingerprint changing between versions would turn every retry in flight
  // during a deploy into a "conflict" (same key, different body).
  it("hashes to fixed 14-digit values (cyrb53), zero-padded", () => {
    expect(requestHash({ op: "hold", seats: ["seat/e1/A/s1"] })).toBe("0338561542f775");
    expect(requestHash({ op: "hold", n: 1 })).toBe("01129a1c06a72b");
    expect(requestHash(null)).toBe("15e0da69fcb93a");
    expect(requestHash("abc")).toBe("133eb9bd3ecdf8");
  });
});
