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
