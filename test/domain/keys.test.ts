import { describe, expect, it } from "vitest";
import * as keys from "../../shared/domain/keys.ts";
import { isValidKey, partitionOf } from "../../shared/storage/partition.ts";
import { KEY_LENGTH_MAX } from "../../shared/storage/ports.ts";

const LONG_ID = "x".repeat(64);
const LONG_SUB = "s".repeat(255);

describe("key layout", () => {
  it("puts seats at seat/<event>/<section>/<seat>, one partition per section", () => {
    expect(keys.seatKey("e1", "stalls", "a1")).toBe("seat/e1/stalls/a1");
    expect(partitionOf(keys.seatKey("e1", "stalls", "a1"))).toBe("seat/e1/stalls");
    expect(keys.scanPrefix.sectionSeats("e1", "stalls")).toBe("seat/e1/stalls/");
  });

  it("builds the documented entity and index keys", () => {
    expect(keys.theaterKey("t1")).toBe("theater/t1");
    expect(keys.venueKey("t1", "v1")).toBe("theater/t1/venue/v1");
    expect(keys.planKey("p1")).toBe("plan/p1");
    expect(keys.eventKey("e1")).toBe("event/e1");
    expect(keys.theaterEventKey("t1", "e1")).toBe("theater/t1/event/e1");
    expect(keys.orderKey("o1")).toBe("order/o1");
    expect(keys.buyerOrderKey("auth0|a", "o1")).toBe("buyer/auth0|a/order/o1");
    expect(partitionOf(keys.buyerOrderKey("auth0|a", "o1"))).toBe("buyer/auth0|a/order");
  });

  it("ends every key in the entity id and starts index keys with their scan prefix", () => {
    const cases: [string, string][] = [
      [keys.theaterListKey("t1"), keys.scanPrefix.theaters()],
      [keys.eventListKey("e1"), keys.scanPrefix.events()],
      [keys.venueKey("t1", "v1"), keys.scanPrefix.theaterVenues("t1")],
      [keys.theaterEventKey("t1", "e1"), keys.scanPrefix.theaterEvents("t1")],
      [keys.seatKey("e1", "s", "a1"), keys.scanPrefix.eventSeats("e1")],
      [keys.buyerOrderKey("b", "o1"), keys.scanPrefix.buyerOrders("b")],
      [keys.eventOrderKey("e1", "o1"), keys.scanPrefix.eventOrders("e1")],
      [keys.eventTicketKey("e1", "k1"), keys.scanPrefix.eventTickets("e1")],
      [keys.theaterPlanKey("t1", "p1"), keys.scanPrefix.theaterPlans("t1")],
      [keys.legacyCheckInKey("e1", "k1"), keys.scanPrefix.eventLegacyCheckIns("e1")],
      [keys.trustKey("c1"), keys.scanPrefix.trust()],
      [keys.holdKey("h1"), keys.scanPrefix.holds()],
      [keys.idemKey("b_1", "k1"), keys.scanPrefix.idemClaims()],
      [keys.theaterIdemKey("t1", "k1"), keys.THEATER_IDEM_PREFIX],
    ];
    for (const [key, prefix] of cases) expect(key.startsWith(prefix), key).toBe(true);
    expect(keys.idOfKey(keys.eventOrderKey("e1", "o1"))).toBe("o1");
    expect(keys.idOfKey(keys.holdKey("h1"))).toBe("h1");
    expect(keys.parseSeatKey(keys.seatKey("e1", "s", "a1"))).toEqual({
      eventId: "e1",
      sectionId: "s",
      seatId: "a1",
    });
    // A buyer's claims are swept, a theatre's are not: no buyer key starts like a theatre's.
    expect(keys.idemKey("b_1", "k1").startsWith(keys.THEATER_IDEM_PREFIX)).toBe(false);
    // Listing theatres or events never sweeps in their nested index entries.
    expect(keys.theaterEventKey("t1", "e1").startsWith(keys.scanPrefix.theaters())).toBe(false);
    expect(keys.eventOrderKey("e1", "o1").startsWith(keys.scanPrefix.events())).toBe(false);
  });

  it("stays valid at the longest ids", () => {
    const all = [
      keys.theaterKey(LONG_ID),
      keys.venueKey(LONG_ID, LONG_ID),
      keys.seatKey(LONG_ID, LONG_ID, LONG_ID),
      keys.buyerOrderKey(LONG_SUB, LONG_ID),
      keys.eventTicketKey(LONG_ID, LONG_ID),
    ];
    for (const k of all) {
      expect(isValidKey(k), k).toBe(true);
      expect(k.length).toBeLessThanOrEqual(KEY_LENGTH_MAX);
    }
  });
});

describe("seat register keys", () => {
  it("names the kind of key and the bad segment in the error", () => {
    expect(() => keys.seatKey("ev", "a/b", "1")).toThrow('bad seat segment: "a/b"');
    expect(() => keys.holdKey("h 1")).toThrow('bad hold segment: "h 1"');
    expect(() => keys.idemKey("u1", "")).toThrow('bad idempotency segment: ""');
    expect(() => keys.quotaKey("u1", "e?")).toThrow('bad quota segment: "e?"');
  });
});
