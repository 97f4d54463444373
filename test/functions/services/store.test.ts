import { describe, expect, it } from "vitest";
import { ProblemError } from "../../../functions/problem.ts";
import {
  CHANGE_RETRIES,
  type EntityStore,
  outcomeUnknown,
  retryingChange,
  unavailable,
} from "../../../functions/services/store.ts";

/** A Services whose store answers each change with the next of `answers` (an error is thrown). */
function servicesAnswering(answers: (ProblemError | "ok")[]) {
  let calls = 0;
  const store = {
    change: async () => {
      const a = answers[Math.min(calls++, answers.length - 1)];
      if (a === "ok") return { ok: true as const, values: [] };
      throw a;
    },
  };
  return { s: { store } as unknown as { store: EntityStore }, calls: () => calls };
}

const typeOf = async (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: unknown) => (e instanceof ProblemError ? e.problem.type.split("/").pop() : String(e)),
  );

describe("retryingChange", () => {
  it("re-runs a change whose outcome is unknown, up to its share of the retry budget", async () => {
    const { s, calls } = servicesAnswering([outcomeUnknown("x")]);
    expect(await typeOf(retryingChange(s, ["k"], () => []))).toBe("outcome-unknown");
    expect(calls()).toBe(CHANGE_RETRIES + 1);
  });

  it("does not re-run a change that reached no quorum", async () => {
    const { s, calls } = servicesAnswering([unavailable("x")]);
    expect(await typeOf(retryingChange(s, ["k"], () => []))).toBe("quorum-unavailable");
    expect(calls()).toBe(1);
  });

  it("answers unknown, not unavailable, when a re-run after an unknown outcome reaches no quorum", async () => {
    // The first run may have landed: "unavailable" would tell the client it did not happen.
    const { s } = servicesAnswering([outcomeUnknown("x"), unavailable("y")]);
    expect(await typeOf(retryingChange(s, ["k"], () => []))).toBe("outcome-unknown");
  });
});
