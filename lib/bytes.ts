/**
 * Byte helpers on web-standard `Uint8Array`: joining chunks and reading a stream
 * with a hard cap (week 1).
 * @module bytes
 * @category Week 01
 */
export { concatBytes, readAllCapped } from '../weeks/week-01-cli-logger/mod.ts';
