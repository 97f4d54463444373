import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { CreateEventInput, Event, UpdateEventInput } from "../../shared/domain/event.ts";
import { CreateHoldInput, Hold } from "../../shared/domain/hold.ts";
import { CreateOrderInput, Order } from "../../shared/domain/order.ts";
import { Payment } from "../../shared/domain/payment.ts";
import { SeatingPlan, SeatingPlanInput } from "../../shared/domain/seating-plan.ts";
import { CreateTheaterInput, Theater } from "../../shared/domain/theater.ts";
import { CreateVenueInput, UpdateVenueInput, Venue } from "../../shared/domain/venue.ts";

/** Every API-facing schema must render into a valid OpenAPI document under its own name. */
describe("domain schemas in OpenAPI", () => {
  it("produce a valid document with named components", async () => {
    const app = new OpenAPIHono();
    const pairs: [string, z.ZodType, z.ZodType][] = [
      ["theaters", CreateTheaterInput, Theater],
      ["venues", CreateVenueInput, Venue],
      ["venues-update", UpdateVenueInput, Venue],
      ["plans", SeatingPlanInput, SeatingPlan],
      ["events", CreateEventInput, Event],
      ["events-update", UpdateEventInput, Event],
      ["holds", CreateHoldInput, Hold],
      ["orders", CreateOrderInput, Order],
      ["payments", z.object({}), Payment],
    ];
    for (const [path, input, output] of pairs) {
      app.openapi(
        createRoute({
          method: "post",
          path: `/${path}`,
          request: { body: { content: { "application/json": { schema: input } } } },
          responses: {
            200: { description: "ok", content: { "application/json": { schema: output } } },
          },
        }),
        (c) => c.json({} as never, 200),
      );
    }
    const doc = app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: { title: "test", version: "0" },
    });
    const names = Object.keys(doc.components?.schemas ?? {});
    for (const n of ["Theater", "Venue", "SeatingPlan", "Event", "Money", "Order", "Seat"]) {
      expect(names).toContain(n);
    }
    const res = await new Validator().validate(JSON.parse(JSON.stringify(doc)));
    expect(res.errors ?? []).toEqual([]);
    expect(res.valid).toBe(true);
  });
});
