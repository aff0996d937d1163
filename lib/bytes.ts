/**
 * Byte helpers on web-standard `Uint8Array`: joining chunks and reading a stream
 * with a hard cap (week 1).
 * @module
 */
export { concatBytes, readAllCapped } from '../weeks/week-01-cli-logger/mod.ts';
