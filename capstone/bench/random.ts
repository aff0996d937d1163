/**
 * Seeded, deterministic inputs for benchmarks: the same seed gives the same bytes on
 * every machine and every run, so two runs measure the same work.
 *
 * The generator is week 2's mulberry32 (`seededRandom` in lib/framing.ts): fast,
 * small and good enough for test data. It is not cryptographic and must never be.
 * @module
 */
import { seededRandom, type RandomSource } from '../../lib/framing.ts';

/** A source of uniform numbers in [0, 1), like `Math.random` but seeded (week 2's `RandomSource`). */
export type Random = RandomSource;

/** Week 2's mulberry32 generator, re-exported so suites import their inputs from one place. */
export { seededRandom };

/**
 * Fills a new byte array from a generator.
 * @param random - the generator, advanced by `length` draws
 * @param length - how many bytes
 * @returns the bytes
 */
export function seededBytes(random: Random, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/**
 * Draws a string of printable ASCII letters and digits (no quoting needed in JSON).
 * @param random - the generator, advanced by `length` draws
 * @param length - how many characters
 * @returns the string
 */
export function seededText(random: Random, length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}
