/**
 * The one record codec this week uses: week 9's length-prefixed, CRC32C-checked frame.
 * A private seam (never re-exported), so the week has exactly one place that names it.
 * @module
 */
export { decodeCrcRecord, readU32, sealCrcRecord, writeU32 } from '../../lib/kv.ts';
