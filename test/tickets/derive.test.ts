import { describe, expect, it } from "vitest";
import { claimsForOrder, type TicketSource } from "../../shared/tickets/derive.ts";

const holder = { sub: "alice", issuer: "https://idp.example" };
const order: TicketSource = {
  id: "o1",
  theaterId: "th1",
  eventId: "ev1",
  createdAt: "2026-12-08T10:00:00.000Z",
  seats: [
    {
      seatId: "A-1",
      sectionId: "stalls",
      categoryId: "std",
      price: { amount: 2500, currency: "EUR" },
      display: { section: "Stalls", row: "A", label: "1", category: "Standard" },
    },
  ],
};

describe("ticket claims derived from an order", () => {
  it("name the event, its start and its venue as the sale committed them", async () => {
    const [t] = await claimsForOrder(
      {
        ...order,
        eventDisplay: {
          title: "Hamlet",
          startsAt: "2027-01-15T19:30:00.000Z",
          venue: "Teatro Olimpico",
        },
      },
      holder,
      "c1",
    );
    expect(t!.claims).toMatchObject({
      evn: "Hamlet",
      evs: Date.UTC(2027, 0, 15, 19, 30) / 1000,
      ven: "Teatro Olimpico",
    });
  });

  it("leave them out for an order sold before they were part of it, or a venue not read", async () => {
    const [old] = await claimsForOrder(order, holder, "c1");
    expect(old!.claims).not.toHaveProperty("evn");
    expect(old!.claims).not.toHaveProperty("evs");
    expect(old!.claims).not.toHaveProperty("ven");
    const [noVenue] = await claimsForOrder(
      { ...order, eventDisplay: { title: "Hamlet", startsAt: "2027-01-15T19:30:00.000Z" } },
      holder,
      "c1",
    );
    expect(noVenue!.claims).toMatchObject({ evn: "Hamlet" });
    expect(noVenue!.claims).not.toHaveProperty("ven");
  });
});
