import type { TicketClaims } from "./claims.ts";

/** The claims of the documented example ticket (`tessera ticket example`), also the tests' sample:
 * one seat, every field filled, fixed ids and issue time so its signatures are reproducible. */
export function exampleClaims(clusterId: string): TicketClaims {
  return {
    tid: "tkt_01JZ8X7Q4M5N6P7R8S9T0V1W2X",
    cid: clusterId,
    evt: "evt_01JZ8X7Q4M5N6P7R8S9T0V1W2Y",
    seat: {
      id: "orch-A-12",
      section: "Orchestra",
      row: "A",
      label: "Row A, Seat 12",
      category: "A",
    },
    hld: "user_8d1f0c3e",
    hiss: "https://id.example.org",
    ord: "ord_01JZ8X7Q4M5N6P7R8S9T0V1W2Z",
    iat: 1_767_225_600,
    thr: "thr_grand",
    prc: { amount: 4500, currency: "EUR" },
  };
}
