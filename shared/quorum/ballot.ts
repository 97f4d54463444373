import type { BallotString } from "./messages.ts";

/**
 * Ballots are totally ordered pairs (counter, proposer id), encoded so that string order is ballot
 * order: the counter is zero-padded to a fixed width. Counters stay far below 2^53 because a peer
 * may only move a ballot forward by BALLOT_JUMP_MAX at a time (a denial-of-service guard), and a
 * counter at COUNTER_MAX is refused rather than allowed to lose precision.
 */
export interface Ballot {
  readonly counter: number;
  readonly proposer: string;
}

const COUNTER_DIGITS = 16;
/** Largest counter we ever produce or accept: 10^15 - 1, safely below 2^53. */
export const COUNTER_MAX = 999_999_999_999_999;
/** A refusal may ask a proposer to jump at most this far ahead of its own counter. */
export const BALLOT_JUMP_MAX = 1_000_000;
const PROPOSER_RE = /^[A-Za-z0-9_-]{1,64}$/;

export const ZERO_BALLOT: BallotString = "";

export function encodeBallot(b: Ballot): BallotString {
  if (!Number.isSafeInteger(b.counter) || b.counter < 1 || b.counter > COUNTER_MAX) {
    throw new RangeError(`ballot counter out of range: ${b.counter}`);
  }
  if (!PROPOSER_RE.test(b.proposer)) throw new RangeError(`bad proposer id: ${b.proposer}`);
  return `${String(b.counter).padStart(COUNTER_DIGITS, "0")}.${b.proposer}`;
}

export function decodeBallot(s: BallotString): Ballot | null {
  if (s === "") return null;
  const dot = s.indexOf(".");
  if (dot !== COUNTER_DIGITS) throw new RangeError(`malformed ballot: ${s}`);
  const counter = Number(s.slice(0, dot));
  const proposer = s.slice(dot + 1);
  if (!Number.isSafeInteger(counter) || counter > COUNTER_MAX || !PROPOSER_RE.test(proposer)) {
    throw new RangeError(`malformed ballot: ${s}`);
  }
  return { counter, proposer };
}

export function isBallotString(s: unknown): s is BallotString {
  if (typeof s !== "string") return false;
  if (s === "") return true;
  try {
    decodeBallot(s);
    return true;
  } catch {
    return false;
  }
}

/** -1, 0 or 1; byte order of the encoding is the ballot order. */
export function compareBallots(a: BallotString, b: BallotString): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function maxBallot(a: BallotString, b: BallotString): BallotString {
  return a >= b ? a : b;
}

/** Counter of a ballot, 0 for the empty ballot. */
export function counterOf(s: BallotString): number {
  return decodeBallot(s)?.counter ?? 0;
}
