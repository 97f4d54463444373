/**
 * Most sellable places (numbered seats plus general-admission capacity) in one plan. Every place
 * becomes one seat key per event in each of the three stores, so this bounds the keys an onsale
 * creates; 200,000 still covers the largest stadiums. At ~80 bytes a seat the plan JSON then
 * reaches ~16 MB: large plans belong in blob storage, not in one replicated record.
 */
export const MAX_SEATS = 200_000;

/**
 * Most problems one validation reports. A plan with 200,000 broken seats would otherwise answer
 * with a multi-megabyte error list; the first thousand are enough to see what is wrong.
 */
export const MAX_PLAN_ERRORS = 1000;

/*
 * Per-list bounds of a plan, well above any real venue (a 100,000-seat stadium has a few hundred
 * blocks of under a hundred rows of under a hundred seats), so they refuse only garbage: a list
 * longer than these could not describe a plan within MAX_SEATS anyway, or would be unusable.
 */
/** Seat categories (price bands) of one plan; an event prices at most as many. */
export const MAX_PLAN_CATEGORIES = 1000;
/** Sections plus general-admission areas of one plan. */
export const MAX_PLAN_SECTIONS = 10_000;
/** Rows of one section. */
export const MAX_SECTION_ROWS = 10_000;
/** Seats of one row. */
export const MAX_ROW_SEATS = 10_000;
