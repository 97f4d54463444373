import { describe, expect, it } from "vitest";
import { layoutFor, SeatBoard } from "../../../scripts/bench/board.ts";

describe("bench seat board", () => {
  it("gives back, on a live-map refresh, seats shown taken that the map shows free, never sold ones", () => {
    const board = new SeatBoard(layoutFor(4));
    const [a, b, c] = [...board.all()] as [
      { section: string; seatId: string },
      { section: string; seatId: string },
      { section: string; seatId: string },
    ];
    board.takenBySomeoneElse([a]);
    board.held([b]);
    board.sold([c]);
    expect(board.freeSeats).toBe(1);
    const key = (s: { section: string; seatId: string }) => `${s.section}/${s.seatId}`;
    // The map shows a, b and c free: a and b come back, a sold seat stays sold.
    expect(board.refresh(new Set([key(a), key(b), key(c)]))).toBe(2);
    expect(board.freeSeats).toBe(3);
    // Free seats the map shows free are not counted twice.
    expect(board.refresh(new Set([key(a)]))).toBe(0);
  });
});
