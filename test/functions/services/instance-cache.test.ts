import { describe, expect, it } from "vitest";
import {
  EVENT_COPIES_MAX,
  eventCopy,
  IMMUTABLE_CACHE_BYTES,
  keepEventCopy,
  readImmutable,
} from "../../../functions/services/instance-cache.ts";
import type { EntityStore } from "../../../functions/services/store.ts";
import type { Event } from "../../../shared/domain/event.ts";

/** Stands for one instance's store: the cache keys on its identity only. */
const store = () => ({}) as EntityStore;

describe("instance cache", () => {
  it("reads each immutable record once, and never keeps an absent one", async () => {
    const s = store();
    const asked: string[][] = [];
    const read = async (keys: readonly string[]) => {
      asked.push([...keys]);
      return keys.map((k) => (k === "gone" ? null : { k }));
    };
    expect(await readImmutable(s, ["a", "gone", "b"], read)).toEqual([
      { k: "a" },
      null,
      { k: "b" },
    ]);
    expect(await readImmutable(s, ["b", "a", "gone"], read)).toEqual([
      { k: "b" },
      { k: "a" },
      null,
    ]);
    expect(asked).toEqual([["a", "gone", "b"], ["gone"]]);
    // Another instance (store) has a cache of its own.
    await readImmutable(store(), ["a"], read);
    expect(asked.at(-1)).toEqual(["a"]);
  });

  it("drops the oldest records past its byte budget", async () => {
    const s = store();
    const big = "x".repeat(IMMUTABLE_CACHE_BYTES / 4);
    const read = async (keys: readonly string[]) => keys.map(() => big);
    for (const k of ["1", "2", "3", "4", "5"]) await readImmutable(s, [k], read);
    let reads = 0;
    const counting = async (keys: readonly string[]) => {
      reads += keys.length;
      return keys.map(() => big);
    };
    await readImmutable(s, ["5", "4", "3"], counting);
    expect(reads).toBe(0);
    await readImmutable(s, ["1"], counting);
    expect(reads).toBe(1);
    // One record larger than the whole budget is served, not kept.
    const huge = async (keys: readonly string[]) =>
      keys.map(() => "y".repeat(IMMUTABLE_CACHE_BYTES));
    await readImmutable(s, ["h"], huge);
    await readImmutable(s, ["h"], counting);
    expect(reads).toBe(2);
  });

  it("keeps the last copy of each event, up to a count", () => {
    const s = store();
    const ev = (id: string, title = "t") => ({ id, title }) as Event;
    expect(eventCopy(s, "e1")).toBeUndefined();
    keepEventCopy(s, ev("e1"));
    keepEventCopy(s, ev("e1", "newer"));
    expect(eventCopy(s, "e1")?.title).toBe("newer");
    for (let i = 0; i < EVENT_COPIES_MAX; i++) keepEventCopy(s, ev(`x${i}`));
    expect(eventCopy(s, "e1")).toBeUndefined();
    expect(eventCopy(s, `x${EVENT_COPIES_MAX - 1}`)).toBeDefined();
  });
});
