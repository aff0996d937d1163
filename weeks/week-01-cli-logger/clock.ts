/**
 * Time and identity, injected. Nothing in CivicTrust's core reads the wall clock or
 * draws random ids by itself: it asks a {@link Clock} and an {@link IdSource}, so
 * tests and simulations can make every output repeatable.
 * @module
 */

/** A source of the current time. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** A source of unique ids. */
export interface IdSource {
  /** A fresh id, never returned before by this source. */
  next(): string;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** Random ids: RFC 9562 version 4 UUIDs from the web-standard `crypto.randomUUID`. */
export const randomIds: IdSource = { next: () => crypto.randomUUID() };

/**
 * A clock that starts at `startMs` and moves forward by `stepMs` on every read, so
 * that successive records get distinct, predictable times.
 */
export function steppingClock(startMs: number, stepMs = 1): Clock {
  let t = startMs - stepMs;
  return { now: () => (t += stepMs) };
}

/** Ids `prefix-000001`, `prefix-000002`, …: predictable and sortable. */
export function counterIds(prefix = 'r'): IdSource {
  let n = 0;
  return { next: () => `${prefix}-${String(++n).padStart(6, '0')}` };
}
