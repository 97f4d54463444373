import { describe, expect, it } from "vitest";
import { emptyRecord, matchesDelete } from "../../shared/quorum/messages.ts";

/**
 * The deleteIf rule every driver implements (test/drivers runs it against each store): a record
 * goes only if it is exactly the tombstone the collector saw, a null value at the accepted and
 * promised ballots it names. Here each condition on its own, since the drivers' suite sits outside
 * the mutation run.
 */
describe("matchesDelete", () => {
  const tomb = { key: "k", accepted: "b1", promised: "b2", value: null };
  const entry = { key: "k", accepted: "b1", promised: "b2" };

  it("matches the very tombstone it names", () => {
    expect(matchesDelete(tomb, entry)).toBe(true);
  });

  it("keeps a record with a value, another accepted ballot or a newer promise", () => {
    expect(matchesDelete({ ...tomb, value: "1" }, entry)).toBe(false);
    expect(matchesDelete({ ...tomb, accepted: "b0" }, entry)).toBe(false);
    expect(matchesDelete({ ...tomb, promised: "b3" }, entry)).toBe(false);
  });

  it("never matches an entry for a record nothing was ever accepted in", () => {
    const never = { ...emptyRecord("k"), promised: "b2" };
    expect(matchesDelete(never, { key: "k", accepted: "", promised: "b2" })).toBe(false);
    expect(matchesDelete(emptyRecord("k"), { key: "k", accepted: "", promised: "" })).toBe(false);
  });
});

describe("emptyRecord", () => {
  it("is a record nothing was promised or accepted in", () => {
    expect(emptyRecord("a/b")).toEqual({ key: "a/b", promised: "", accepted: "", value: null });
  });
});
