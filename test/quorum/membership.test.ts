import { describe, expect, it } from "vitest";
import { EntityStore } from "../../functions/services/store.ts";
import { QuorumClient } from "../../shared/quorum/client.ts";
import {
  effectiveMembership,
  MEMBER_KEY,
  MembershipAcceptor,
  MembershipControl,
  parseMembership,
} from "../../shared/quorum/membership.ts";
import { emptyRecord } from "../../shared/quorum/messages.ts";
import { caughtUp, rejoinSlice, rejoinStep } from "../../shared/quorum/rejoin.ts";
import { MemoryAcceptor } from "../../shared/storage/memory.ts";
import type { AcceptorPort } from "../../shared/storage/ports.ts";

function client(acceptors: AcceptorPort[], id = "t1") {
  let seed = 7;
  return new QuorumClient({
    acceptors,
    proposerId: id,
    now: () => 1_000,
    random: () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
    timeoutMs: 50,
  });
}

/** Three memory stores; store 2 wrapped in the membership decorator, as createApp wires it. */
function cluster(now = () => 0) {
  const raw = [new MemoryAcceptor(), new MemoryAcceptor(), new MemoryAcceptor()];
  const decorated = new MembershipAcceptor(raw[2]!, now);
  const control = new MembershipControl(raw[2]!);
  return { raw, decorated, control, ports: [raw[0]!, raw[1]!, decorated] as AcceptorPort[] };
}

describe("membership record", () => {
  it("absent means member; unreadable means rejoining (never voting by mistake)", () => {
    expect(parseMembership(undefined)).toEqual({ state: "member", epoch: 0 });
    expect(parseMembership(emptyRecord(MEMBER_KEY))).toEqual({ state: "member", epoch: 0 });
    const bad = { ...emptyRecord(MEMBER_KEY), accepted: "0000000000000003.membership", value: "x" };
    expect(parseMembership(bad)).toEqual({ state: "rejoining", epoch: 3 });
  });

  it("a mark bumps the epoch; back to member only for the epoch being swept", async () => {
    const { control } = cluster();
    expect(await control.read()).toEqual({ state: "member", epoch: 0 });
    expect(await control.markRestored(5)).toEqual({ state: "rejoining", epoch: 1, markedAtMs: 5 });
    await control.markRestored(9);
    expect(await control.markMember(1)).toBe(false);
    expect((await control.read()).state).toBe("rejoining");
    expect(await control.markMember(2)).toBe(true);
    expect(await control.read()).toEqual({ state: "member", epoch: 2, markedAtMs: 9 });
    expect(await control.markMember(2)).toBe(true);
  });
});

describe("MembershipAcceptor", () => {
  it("tags every reply while rejoining, and none while a member", async () => {
    let t = 0;
    const { decorated, control } = cluster(() => t);
    const b = "0000000000000001.p";
    expect((await decorated.prepare({ keys: ["k"], ballot: b }))[0]).not.toHaveProperty("learner");
    await control.markRestored(0);
    // Cached for MEMBERSHIP_CACHE_MS: still a member until the cache runs out (or is dropped).
    expect((await decorated.read(["k"]))[0]).not.toHaveProperty("learner");
    t = 5_000;
    const b2 = "0000000000000002.p";
    expect((await decorated.prepare({ keys: ["k"], ballot: b2 }))[0]).toMatchObject({
      ok: true,
      learner: true,
    });
    expect((await decorated.accept([{ key: "k", ballot: b2, value: "1" }]))[0]).toEqual({
      ok: true,
      key: "k",
      learner: true,
    });
    expect((await decorated.read(["k"]))[0]).toMatchObject({ value: "1", learner: true });
    expect(await decorated.scan("")).toMatchObject({ learner: true });
    await control.markMember(1);
    decorated.invalidate();
    expect((await decorated.read(["k"]))[0]).not.toHaveProperty("learner");
  });

  it("configured with a restore name, does not vote until marked for it and walked", async () => {
    const raw = new MemoryAcceptor();
    const control = new MembershipControl(raw);
    const restore = "2026-12-07-pitr";
    const d = new MembershipAcceptor(raw, () => 0, { restore, cacheMs: 0 });
    // Never marked (a fresh copy): not voting from the first request.
    expect(await d.membership()).toEqual({ state: "rejoining", epoch: 0 });
    expect((await d.read(["k"]))[0]).toMatchObject({ learner: true });
    await control.markRestored(0, restore);
    expect(await d.membership()).toMatchObject({ state: "rejoining", epoch: 1, restore });
    await control.markMember(1);
    expect(await d.membership()).toEqual({ state: "member", epoch: 1, markedAtMs: 0, restore });
    // An earlier walk under another name does not count for this restore.
    const other = new MembershipAcceptor(raw, () => 0, { restore: "later", cacheMs: 0 });
    expect((await other.membership()).state).toBe("rejoining");
    expect(effectiveMembership({ state: "member", epoch: 3 })).toEqual({
      state: "member",
      epoch: 3,
    });
  });

  it("hides the record from scans and refuses it to proposers", async () => {
    const { decorated, control } = cluster();
    await control.markRestored(0);
    expect((await decorated.scan("")).records.map((r) => r.key)).toEqual([]);
    await expect(decorated.prepare({ keys: [MEMBER_KEY], ballot: "9.x" })).rejects.toThrow(
      /reserved/,
    );
    await expect(
      decorated.accept([{ key: MEMBER_KEY, ballot: "9.x", value: null }]),
    ).rejects.toThrow(/reserved/);
  });

  it("a quorum client needs both voting stores while one is rejoining", async () => {
    const { raw, decorated, control } = cluster();
    await control.markRestored(0);
    const down: AcceptorPort = {
      ...raw[1]!,
      deleteIf: (e) => raw[1]!.deleteIf(e),
      prepare: () => Promise.reject(new Error("down")),
      accept: () => Promise.reject(new Error("down")),
      read: () => Promise.reject(new Error("down")),
      scan: () => Promise.reject(new Error("down")),
      ping: () => Promise.reject(new Error("down")),
    };
    const out = await client([raw[0]!, down, decorated]).change(["k"], () => ({ values: [1] }));
    expect(out.status).toBe("unavailable");
    const ok = await client([raw[0]!, raw[1]!, decorated], "t2").change(["k"], () => ({
      values: [1],
    }));
    expect(ok.status).toBe("ok");
  });

  it("a majority read does not count the rejoining store", async () => {
    const { raw, decorated, control } = cluster();
    // The rejoining store and store 0 agree on an old value; store 1 holds the newer one.
    const old = { key: "m", promised: "0000000000000001.a", accepted: "0000000000000001.a" };
    raw[0]!.records.set("m", { ...old, value: "1" });
    raw[2]!.records.set("m", { ...old, value: "1" });
    const nu = "0000000000000002.a";
    raw[1]!.records.set("m", { key: "m", promised: nu, accepted: nu, value: "2" });
    await control.markRestored(0);
    const slow: AcceptorPort = {
      ...raw[1]!,
      deleteIf: (e) => raw[1]!.deleteIf(e),
      read: (keys) => new Promise((r) => setTimeout(() => r(raw[1]!.read(keys)), 20)),
      prepare: (req) => raw[1]!.prepare(req),
      accept: (e) => raw[1]!.accept(e),
      scan: (p, o) => raw[1]!.scan(p, o),
      ping: () => raw[1]!.ping(),
    };
    // Stores 0 and 2 answer first and agree; without the rule the read would return 1.
    const got = await client([raw[0]!, slow, decorated]).get(["m"], { consistency: "majority" });
    expect(got).toEqual({ status: "ok", values: [2] });
  });
});

describe("rejoin sweep", () => {
  it("re-chooses every key found on any store, and only a clean walk ends the rejoin", async () => {
    let t = 0;
    const { raw, decorated, control, ports } = cluster(() => t);
    const c = client(ports);
    for (const k of ["a/1", "a/2", "b/1", "c/1", "c/2"]) {
      expect((await c.change([k], () => ({ values: [k] }))).status).toBe("ok");
    }
    // Store 2 is restored to an empty snapshot, except a key nobody else has.
    raw[2]!.records.clear();
    raw[2]!.records.set("z/only", { key: "z/only", promised: "", accepted: "", value: null });
    await control.markRestored(0);
    const access = { read: () => control.read(), markMember: (e: number) => control.markMember(e) };
    // Too early: a pre-restore accept may still be landing.
    const early = await rejoinStep(c, ports, 2, access, null, { now: 10, delayMs: 100 });
    expect(early).toMatchObject({ waiting: true, rejoined: false });
    t = 5_000; // past the decorator's cache
    let step = await rejoinStep(c, ports, 2, access, early.progress, {
      now: 200,
      delayMs: 100,
      limit: 2,
    });
    let moved = step.slice?.moved ?? 0;
    let steps = 1;
    while (step.progress !== null && steps < 10) {
      step = await rejoinStep(c, ports, 2, access, step.progress, {
        now: 200,
        delayMs: 100,
        limit: 2,
      });
      moved += step.slice?.moved ?? 0;
      steps++;
    }
    expect(step.rejoined).toBe(true);
    expect(steps).toBe(3);
    expect(moved).toBe(6);
    expect(await control.read()).toMatchObject({ state: "member" });
    for (const k of ["a/1", "a/2", "b/1", "c/1", "c/2"]) {
      expect((await raw[2]!.read([k]))[0]!.value).toBe(JSON.stringify(k));
    }
    expect((await decorated.scan("")).records.map((r) => r.key)).not.toContain(MEMBER_KEY);
  });

  it("a slice that could not move a key is not clean, and the walk starts over", async () => {
    const { raw, control } = cluster();
    const c0 = client([raw[0]!, raw[1]!, raw[2]!]);
    await c0.change(["k"], () => ({ values: [1] }));
    await control.markRestored(0);
    // Accepts to the rejoining store are lost: it can never catch up.
    const deaf: AcceptorPort = {
      deleteIf: (e) => raw[2]!.deleteIf(e),
      prepare: (r) => raw[2]!.prepare(r),
      accept: async (e) =>
        e.map((x) => ({ ok: true as const, key: x.key, learner: true as const })),
      read: (k) => raw[2]!.read(k),
      scan: (p, o) => raw[2]!.scan(p, o),
      ping: () => raw[2]!.ping(),
    };
    const ports = [raw[0]!, raw[1]!, deaf];
    const slice = await rejoinSlice(client(ports, "t9"), ports, 2);
    expect(slice).toMatchObject({ scanned: 1, moved: 0, failed: 1 });
    const access = { read: () => control.read(), markMember: (e: number) => control.markMember(e) };
    const step = await rejoinStep(client(ports, "t8"), ports, 2, access, null, {
      now: 1e9,
    });
    expect(step.rejoined).toBe(false);
    expect(step.progress).toEqual({ epoch: 1, clean: true });
  });

  it("caughtUp: at or above the lower of the two voters' accepted ballots", () => {
    const r = (accepted: string) => ({ key: "k", promised: accepted, accepted, value: null });
    expect(caughtUp(r("2.b"), [r("2.b"), r("3.c")])).toBe(true);
    expect(caughtUp(r("1.a"), [r("2.b"), r("3.c")])).toBe(false);
    expect(caughtUp(r("2.b"), [r("2.b"), undefined])).toBe(false);
    expect(caughtUp(r(""), [r(""), r("")])).toBe(false);
  });
});

describe("EntityStore.majorityScan with a rejoining store", () => {
  it("merges two voting stores' pages, never the rejoining store's", async () => {
    const { raw, decorated, control } = cluster();
    const b = "0000000000000001.a";
    // Committed on stores 1 and 2; store 2 then lost it and was marked restored.
    raw[1]!.records.set("o/1", { key: "o/1", promised: b, accepted: b, value: '"sold"' });
    await control.markRestored(0);
    // Store 2 is this provider's own store (read first), store 0 missed the write.
    const store = new EntityStore(client([raw[0]!, raw[1]!, decorated]), decorated, [
      raw[0]!,
      raw[1]!,
    ]);
    const page = await store.majorityScan<string>("o/");
    expect(page.items).toEqual([{ key: "o/1", value: "sold" }]);
  });
});

describe("local reads with a rejoining own store", () => {
  it("go to the majority instead of serving the restored copy", async () => {
    const { raw, decorated, control } = cluster();
    const c = new QuorumClient({
      acceptors: [raw[0]!, raw[1]!, decorated],
      localIndex: 2,
      proposerId: "t5",
      now: () => 1_000,
      random: () => 0.5,
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
      timeoutMs: 50,
    });
    expect((await c.change(["k"], () => ({ values: [1] }))).status).toBe("ok");
    raw[2]!.records.delete("k"); // restored from before the write
    await control.markRestored(0);
    decorated.invalidate();
    expect(await c.get(["k"], { consistency: "local" })).toEqual({ status: "ok", values: [1] });
  });
});
