import { describe, expect, it } from "vitest";
import { ClockPlan, SimClock } from "../../../scripts/sim/clock.ts";
import { KillSwitch } from "../../../scripts/sim/kills.ts";
import { SimNode } from "../../../scripts/sim/network.ts";
import { Scheduler } from "../../../scripts/sim/scheduler.ts";

describe("kill points", () => {
  it("keeps the old points: the next accept round cut short after 0, 1 or 2 accepts", () => {
    for (const [point, leave] of [
      ["after-prepare", 0],
      ["after-1-accept", 1],
      ["after-2-accepts", 2],
    ] as const) {
      const node = new SimNode("n", new Scheduler());
      node.armKill(point);
      expect(node.alive("prepare sent", ["k"])).toBe(true);
      expect(node.alive("reply received")).toBe(true);
      const sent = [0, 1, 2].filter(() => node.alive("accept sent", ["k"])).length;
      expect(sent).toBe(leave);
      expect(node.killed).toBe(true);
    }
  });

  it("dies just before the k-th await point of any kind, and says where", () => {
    const landed: unknown[] = [];
    const node = new SimNode("n", new Scheduler(), (k) => landed.push(k));
    node.armKillAt(3);
    expect(node.alive("prepare sent", ["a", "b"])).toBe(true);
    expect(node.alive("reply received")).toBe(true);
    expect(node.alive("backoff sleep")).toBe(false);
    expect(landed).toEqual([{ kind: "backoff sleep", keys: ["a", "b"] }]);
    expect(node.alive("prepare sent")).toBe(false);
  });

  it("tells the caller when the process dies, and a disarmed switch never fires", async () => {
    const node = new SimNode("n", new Scheduler());
    let dropped = false;
    void node.died().then(() => (dropped = true));
    node.armKillAt(1);
    node.disarm();
    expect(node.alive("accept sent")).toBe(true);
    node.kill();
    await Promise.resolve();
    expect(dropped).toBe(true);
    const s = new KillSwitch();
    expect(s.reached("accept sent")).toBe(false);
  });
});

describe("clock faults", () => {
  it("keeps every stepped seat clock within its bound", async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const sched = new Scheduler();
      const plan = new ClockPlan(seed, sched, 40);
      const c = new SimClock(sched, 40);
      plan.maybeStep("c", c);
      await sched.run();
      expect(Math.abs(c.offsetMs)).toBeLessThanOrEqual(40);
      expect(plan.bigSkew).toBe(false);
    }
  });
});
