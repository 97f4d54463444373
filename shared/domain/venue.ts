import { z } from "@hono/zod-openapi";
import { Id } from "./ids.ts";
import { displayText, Name } from "./text.ts";

/** Postal address as free text (formats differ too much between countries to structure). */
export const ADDRESS_MAX_LENGTH = 500;

/**
 * IANA time zone such as "Europe/Vienna". Checked against the runtime's tz database through Intl
 * (pure: no I/O), which also accepts canonical aliases like "UTC".
 */
export function isTimeZone(tz: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const TimeZone = z
  .string()
  .max(64)
  .refine(isTimeZone, { message: "must be an IANA time zone such as Europe/Vienna" })
  .meta({ description: "IANA time zone, e.g. Europe/Vienna." });

const venueFields = {
  name: Name,
  address: displayText(ADDRESS_MAX_LENGTH).trim().min(1),
  timezone: TimeZone,
  /** The seating plan used by default for this venue's events. */
  planId: Id,
};

export const Venue = z
  .object({ id: Id, theaterId: Id, ...venueFields })
  .strict()
  .openapi("Venue");
export type Venue = z.infer<typeof Venue>;

export const CreateVenueInput = z.object(venueFields).strict().openapi("CreateVenueInput");
export type CreateVenueInput = z.infer<typeof CreateVenueInput>;

export const UpdateVenueInput = CreateVenueInput.partial().openapi("UpdateVenueInput");
export type UpdateVenueInput = z.infer<typeof UpdateVenueInput>;

export function newVenue(id: string, theaterId: string, input: CreateVenueInput): Venue {
  return Venue.parse({ id, theaterId, ...input });
}
