import { describe, expect, it } from "vitest";
import { encodeBallot } from "../../shared/quorum/ballot.ts";
import { MembershipAcceptor, MembershipControl } from "../../shared/quorum/membership.ts";
import type { AcceptorPort, BlobPort } from "../../shared/storage/ports.ts";

/**
 * One behaviour suite for every acceptor and blob driver. A driver test only says how to build the
 * driver (against its real local stand-in); this file says what every driver must do, so that the
 * quorum protocol can treat them as interchangeable.
 *
 * `fresh()` must return a driver over an isolated namespace (or the suite uses unique key prefixes
 * per test, which it does anyway so drivers may share one store).
 */
export interface DriverFixture {
  acceptor: () => AcceptorPort;
  blobs?: () => BlobPort;
}

const b = (counter: number, proposer = "p1") => encodeBallot({ counter, proposer });
let seq = 0;
const uniq = (name: string) => `t${Date.now().toString(36)}${(seq++).toString(36)}/${name}`;

export function acceptorContract(name: string, fx: DriverFixture): void {
  describe(`${name} acceptor contract`, () => {
    it("reads an unknown key as an empty record", async () => {
      const a = fx.acceptor();
      const k = uniq("a/1");
      expect(await a.read([k])).toEqual([{ key: k, promised: "", accepted: "", value: null }]);
    });

    it("promises a higher ballot and returns the accepted value", async () => {
      const a = fx.acceptor();
      const k = uniq("a/1");
      expect(await a.prepare({ keys: [k], ballot: b(1) })).toEqual([
        { ok: true, key: k, accepted: "", value: null },
      ]);
      expect(await a.accept([{ key: k, ballot: b(1), value: '{"v":1}' }])).toEqual([
        { ok: true, key: k },
      ]);
      expect(await a.prepare({ keys: [k], ballot: b(2, "p2") })).toEqual([
        { ok: true, key: k, accepted: b(1), value: '{"v":1}' },
      ]);
      expect(await a.read([k])).toEqual([
        { key: k, promised: b(2, "p2"), accepted: b(1), value: '{"v":1}' },
      ]);
    });

    it("refuses prepare at or below the promise and returns the conflicting ballot", async () => {
      const a = fx.acceptor();
      const k = uniq("a/1");
      await a.prepare({ keys: [k], ballot: b(5) });
      expect(await a.prepare({ keys: [k], ballot: b(5) })).toEqual([
        { ok: false, key: k, conflict: b(5) },
      ]);
      expect(await a.prepare({ keys: [k], ballot: b(4, "zz") })).toEqual([
        { ok: false, key: k, conflict: b(5) },
      ]);
    });

    it("refuses accept below the promise and at or below the accepted ballot", async () => {
      const a = fx.acceptor();
      const k = uniq("a/1");
      await a.prepare({ keys: [k], ballot: b(3) });
      expect(await a.accept([{ key: k, ballot: b(2), value: "1" }])).toEqual([
        { ok: false, key: k, conflict: b(3) },
      ]);
      expect(await a.accept([{ key: k, ballot: b(3), value: "2" }])).toEqual([
        { ok: true, key: k },
      ]);
      // Same ballot with another value: not above the accepted one, so refused.
      expect(await a.accept([{ key: k, ballot: b(3), value: "3" }])).toEqual([
        { ok: false, key: k, conflict: b(3) },
      ]);
      expect((await a.read([k]))[0]?.value).toBe("2");
    });

    it("acknowledges a repeat of the stored accept and changes nothing, even after a higher promise", async () => {
      const a = fx.acceptor();
      const k = uniq("a/1");
      const k0 = uniq("a/0");
      expect(await a.accept([{ key: k, ballot: b(3), value: "2", next: b(4) }])).toEqual([
        { ok: true, key: k },
      ]);
      // A duplicated delivery: acknowledged, the promise stays.
      expect(await a.accept([{ key: k, ballot: b(3), value: "2", next: b(4) }])).toEqual([
        { ok: true, key: k },
      ]);
      expect(await a.read([k])).toEqual([{ key: k, promised: b(4), accepted: b(3), value: "2" }]);
      // Still acknowledged after someone else promised higher: it is what this acceptor holds.
      await a.prepare({ keys: [k], ballot: b(6, "p2") });
      expect(await a.accept([{ key: k, ballot: b(3), value: "2", next: b(4) }])).toEqual([
        { ok: true, key: k },
      ]);
      expect(await a.read([k])).toEqual([
        { key: k, promised: b(6, "p2"), accepted: b(3), value: "2" },
      ]);
      // A null value repeats too; a different value at the stored ballot does not, nor does "".
      await a.accept([{ key: k0, ballot: b(1), value: null }]);
      expect(await a.accept([{ key: k0, ballot: b(1), value: null }])).toEqual([
        { ok: true, key: k0 },
      ]);
      expect(await a.accept([{ key: k0, ballot: b(1), value: "null" }])).toEqual([
        { ok: false, key: k0, conflict: b(1) },
      ]);
      expect((await a.read([k0]))[0]?.value).toBeNull();
      const fresh = uniq("a/2");
      expect(await a.accept([{ key: fresh, ballot: "", value: null }])).toEqual([
        { ok: false, key: fresh, conflict: "" },
      ]);
      // Once a higher ballot is accepted, the old accept is refused for good.
      await a.accept([{ key: k, ballot: b(6, "p2"), value: "9" }]);
      expect(await a.accept([{ key: k, ballot: b(3), value: "2", next: b(4) }])).toEqual([
        { ok: false, key: k, conflict: b(6, "p2") },
      ]);
      expect((await a.read([k]))[0]?.value).toBe("9");
    });

    it("accepts a higher ballot without a prepare and grants the next promise", async () => {
      const a = fx.acceptor();
      const k = uniq("a/1");
      expect(await a.accept([{ key: k, ballot: b(7), value: "x", next: b(8) }])).toEqual([
        { ok: true, key: k },
      ]);
      expect(await a.read([k])).toEqual([{ key: k, promised: b(8), accepted: b(7), value: "x" }]);
      // The next ballot was promised to the same proposer: its accept goes through, others' prepare
      // at or below it does not.
      expect(await a.prepare({ keys: [k], ballot: b(8) })).toEqual([
        { ok: false, key: k, conflict: b(8) },
      ]);
      expect(await a.accept([{ key: k, ballot: b(8), value: "y" }])).toEqual([
        { ok: true, key: k },
      ]);
    });

    it("decides each key of a batch on its own, replies in request order", async () => {
      const a = fx.acceptor();
      const ks = [uniq("s/3"), uniq("s/1"), uniq("s/2")];
      await a.prepare({ keys: [ks[1]!], ballot: b(9) });
      const r = await a.prepare({ keys: ks, ballot: b(4) });
      expect(r.map((x) => [x.key, x.ok])).toEqual([
        [ks[0], true],
        [ks[1], false],
        [ks[2], true],
      ]);
      const acc = await a.accept(ks.map((key) => ({ key, ballot: b(4), value: `"${key}"` })));
      expect(acc.map((x) => x.ok)).toEqual([true, false, true]);
      const rd = await a.read(ks);
      expect(rd.map((x) => x.value)).toEqual([`"${ks[0]}"`, null, `"${ks[2]}"`]);
    });

    it("keeps value null distinct from the string 'null' and round-trips unicode", async () => {
      const a = fx.acceptor();
      const k1 = uniq("v/1");
      const k2 = uniq("v/2");
      await a.accept([
        { key: k1, ballot: b(1), value: "null" },
        { key: k2, ballot: b(1), value: '{"name":"Zoë 🎭 \\"q\\""}' },
      ]);
      const rd = await a.read([k1, k2]);
      expect(rd[0]?.value).toBe("null");
      expect(rd[1]?.value).toBe('{"name":"Zoë 🎭 \\"q\\""}');
      await a.accept([{ key: k1, ballot: b(2), value: null }]);
      expect((await a.read([k1]))[0]?.value).toBeNull();
    });

    it("serialises concurrent prepares on one key: exactly one of equal ballots wins", async () => {
      const a = fx.acceptor();
      const k = uniq("c/1");
      const rs = await Promise.all(
        Array.from({ length: 8 }, () => a.prepare({ keys: [k], ballot: b(1) })),
      );
      expect(rs.filter((r) => r[0]?.ok).length).toBe(1);
    });

    it("scans a prefix in key order with a cursor and a limit", async () => {
      const a = fx.acceptor();
      const p = uniq("scan/");
      const keys = Array.from({ length: 7 }, (_, i) => `${p}${String(i).padStart(2, "0")}`);
      await a.accept(keys.map((key) => ({ key, ballot: b(1), value: "1" })));
      await a.accept([{ key: `${p.slice(0, -1)}x`, ballot: b(1), value: "1" }]); // not in prefix
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await a.scan(p, { limit: 3, ...(cursor ? { cursor } : {}) });
        expect(page.records.length).toBeLessThanOrEqual(3);
        seen.push(...page.records.map((r) => r.key));
        cursor = page.cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toEqual(keys);
      const one = await a.scan(p, { limit: 100 });
      expect(one.records[0]).toEqual({ key: keys[0], promised: b(1), accepted: b(1), value: "1" });
    });

    it("keeps a store's membership record, written by compare-on-ballot, hidden by the decorator", async () => {
      // The record has a fixed key (it describes the whole store): end as a member, as found.
      const a = fx.acceptor();
      const control = new MembershipControl(a);
      const marked = await control.markRestored(1);
      expect(marked.state).toBe("rejoining");
      expect(await control.read()).toEqual(marked);
      const d = new MembershipAcceptor(a, () => 0, { cacheMs: 0 });
      const k = uniq("m/1");
      expect(await d.prepare({ keys: [k], ballot: b(1) })).toEqual([
        { ok: true, key: k, accepted: "", value: null, learner: true },
      ]);
      expect((await d.scan("sys/")).records).toEqual([]);
      expect(await control.markMember(marked.epoch)).toBe(true);
      expect(await control.read()).toMatchObject({ state: "member", epoch: marked.epoch });
      expect(await d.read([k])).toEqual([{ key: k, promised: b(1), accepted: "", value: null }]);
    });

    it("deleteIf removes a tombstone only at the ballot and promise it was read at", async () => {
      const a = fx.acceptor();
      const dead = uniq("del/dead");
      const live = uniq("del/live");
      const moved = uniq("del/moved");
      const never = uniq("del/never");
      const str = uniq("del/str");
      await a.accept([
        { key: dead, ballot: b(3), value: null, next: b(5) },
        { key: live, ballot: b(3), value: '"v"', next: b(5) },
        { key: moved, ballot: b(3), value: null, next: b(5) },
        { key: str, ballot: b(3), value: "null", next: b(5) },
      ]);
      // A prepare after the collector looked moves the promise: that record must stay.
      await a.prepare({ keys: [moved], ballot: b(6) });
      const del = (key: string, accepted = b(3), promised = b(5)) => ({ key, accepted, promised });
      expect(
        await a.deleteIf([
          del(dead, b(2)),
          del(dead, b(3), b(4)),
          del(live),
          del(moved),
          del(str),
          del(never),
        ]),
      ).toEqual([
        { ok: false, key: dead },
        { ok: false, key: dead },
        { ok: false, key: live },
        { ok: false, key: moved },
        { ok: false, key: str },
        { ok: true, key: never },
      ]);
      expect((await a.read([dead]))[0]).toEqual({
        key: dead,
        promised: b(5),
        accepted: b(3),
        value: null,
      });
      expect(await a.deleteIf([del(dead)])).toEqual([{ ok: true, key: dead }]);
      expect(await a.read([dead])).toEqual([
        { key: dead, promised: "", accepted: "", value: null },
      ]);
      expect(await a.deleteIf([del(dead)])).toEqual([{ ok: true, key: dead }]);
      // Gone from scans too, and a fresh record at any ballot may start again.
      const listed = await a.scan(dead.slice(0, dead.lastIndexOf("/") + 1), { limit: 100 });
      expect(listed.records.map((r) => r.key)).not.toContain(dead);
      expect(await a.accept([{ key: dead, ballot: b(1), value: '"new"' }])).toEqual([
        { ok: true, key: dead },
      ]);
    });

    it("answers ping", async () => {
      await expect(fx.acceptor().ping()).resolves.toBeUndefined();
    });
  });
}

export function blobContract(name: string, fx: Required<DriverFixture>): void {
  describe(`${name} blob contract`, () => {
    it("puts, gets and overwrites bytes and text", async () => {
      const bl = fx.blobs();
      const k = uniq("blob/a.json");
      expect(await bl.get(k)).toBeNull();
      await bl.put(k, '{"a":"é"}', { contentType: "application/json" });
      expect(new TextDecoder().decode((await bl.get(k))!)).toBe('{"a":"é"}');
      const bytes = new Uint8Array([0, 1, 2, 255]);
      await bl.put(k, bytes);
      expect(await bl.get(k)).toEqual(bytes);
    });

    it("lists a prefix in order with a cursor", async () => {
      const bl = fx.blobs();
      const p = uniq("list/");
      const keys = Array.from({ length: 5 }, (_, i) => `${p}${i}`);
      for (const k of keys) await bl.put(k, k);
      await bl.put(`${p.slice(0, -1)}-other`, "x");
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await bl.list(p, { limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.keys);
        cursor = page.cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toEqual(keys);
    });
  });
}
