import { z } from "@hono/zod-openapi";

/**
 * Integer schemas that state their range and width, so the OpenAPI document (and every client
 * generated from it) knows the real bounds. int32 for counts (every count here is bounded by a
 * plan's MAX_SEATS or a page size), int64 for amounts and sequence numbers that may pass 2^31.
 */
export const int32 = (min: number, max: number) =>
  z.number().int().min(min).max(max).meta({ format: "int32" });

export const int64 = (min: number, max: number) =>
  z.number().int().min(min).max(max).meta({ format: "int64" });

/** Largest JS integer that is still exact: the honest bound of a monotonic counter. */
export const SAFE_INT_MAX = Number.MAX_SAFE_INTEGER;

/** Longest ISO 8601 instant we accept: `2026-03-01T19:30:00.123456789+01:00` is 35 characters. */
export const INSTANT_MAX_LENGTH = 40;
