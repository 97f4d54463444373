import { describe, expect, it } from "vitest";
import { holdKey, idemKey, quotaKey, seatKey } from "../../shared/seats/keys.ts";

describe("seat register keys", () => {
  it("names the kind of key and the bad segment in the error", () => {
    expect(() => seatKey("ev", "a/b", "1")).toThrow('bad seat segment: "a/b"');
    expect(() => holdKey("h 1")).toThrow('bad hold segment: "h 1"');
    expect(() => idemKey("u1", "")).toThrow('bad idempotency segment: ""');
    expect(() => quotaKey("u1", "e?")).toThrow('bad quota segment: "e?"');
  });
});
