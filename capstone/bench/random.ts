/**
 * Seeded, deterministic inputs for benchmarks: the same seed gives the same bytes on
 * every machine and every run, so two runs measure the same work.
 *
 * The generator is mulberry32 (32-bit state, period 2^32), by Tommy Ettinger: fast,
 * small and good enough for test data. It is not cryptographic and must never be.
 * @module
 */

/** A source of uniform numbers in [0, 1), like `Math.random` but seeded. */
export type Random = () => number;

/**
 * Makes a seeded generator.
 * @param seed - any integer; only its low 32 bits count
 * @returns a function giving the next number in [0, 1)
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return function next(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
