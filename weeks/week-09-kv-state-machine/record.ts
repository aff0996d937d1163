/**
 * The checksummed record: the one unit in which week 9 (snapshots) and week 10 (the
 * WAL) put bytes on disk.
 *
 * ```
 *  offset 0        4          8
 *         ┌────────┬──────────┬───────────────────────┐
 *         │ length │ crc32c   │ body (length bytes)    │
 *         │ u32 BE │ u32 BE   │                        │
 *         └────────┴──────────┴───────────────────────┘
 *  next record starts at offset 8 + length
 * ```
 *
 * The checksum covers the body. A damaged length field is caught as well: a shorter
 * length cuts the body and its CRC no longer matches, a longer one that stays inside
 * the bytes swallows the next record's header (CRC mismatch), and a longer one that
 * runs past the end is called torn only when there is no evidence against it: if the
 * bytes that are there already check against the CRC, the record is complete and its
 * length is corrupt, and {@link decodeCrcRecords} also calls it corrupt when a whole
 * record follows (a torn write can only be the last bytes written). Lengths
 * above {@link MAX_RECORD_BODY_BYTES} are refused before anything is read, so a flipped
 * high bit can never make a reader allocate gigabytes.
 *
 * Decoding never throws on bad bytes: it returns `{ error: 'torn' | 'corrupt', at }`,
 * and the caller decides (week 10 stops replay there and quarantines the rest).
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { KV_ERRORS } from './catalog.ts';
import { crc32c } from './crc32c.ts';

/** Bytes of the record header: length and checksum. */
export const RECORD_HEADER_BYTES = 8;
/** The largest body a record may carry (64 MiB); a longer length field is treated as corrupt. */
export const MAX_RECORD_BODY_BYTES = 64 * 1024 * 1024;

/** A record that decoded: its body and where the next record starts. */
export interface DecodedRecord {
  /** The body bytes (a view into the input, not a copy). */
  readonly body: Uint8Array;
  /** The offset just past this record. */
  readonly next: number;
}

/** A record that did not decode, and where it starts. */
export interface RecordDamage {
  /**
   * `torn`: the bytes stop before the record ends (a cut-short write at the tail);
   * `corrupt`: the record is complete but its checksum or length field is wrong.
   */
  readonly error: 'torn' | 'corrupt';
  /** The offset of the damaged record's first byte. */
  readonly at: number;
}

const fail = errorFactory(KV_ERRORS);

// #region encode-record
/**
 * Frames `body` as one record: `[u32 BE length][u32 BE crc32c(body)][body]`.
 * @throws RangeError when the body is longer than {@link MAX_RECORD_BODY_BYTES}
 */
export function encodeCrcRecord(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_BYTES + body.length);
  out.set(body, RECORD_HEADER_BYTES);
  return sealCrcRecord(out);
}

/**
 * Frames a record in place: `record` holds the body from byte 8 on, and this writes the
 * length and the CRC32C of that body into its first 8 bytes. For a caller that built the
 * body where the record will live (week 10 writes each WAL record straight into a shared
 * slab), so the body is never copied.
 * @param record - 8 bytes of room, then the body
 * @returns `record`, framed
 * @throws RangeError when the body is longer than {@link MAX_RECORD_BODY_BYTES}
 */
export function sealCrcRecord(record: Uint8Array): Uint8Array {
  const body = record.subarray(RECORD_HEADER_BYTES);
  if (body.length > MAX_RECORD_BODY_BYTES) {
    throw new RangeError(`record body is ${body.length} bytes, above the limit of ${MAX_RECORD_BODY_BYTES}`);
  }
  writeU32(record, 0, body.length);
  writeU32(record, 4, crc32c(body));
  return record;
}

/** Reads the u32 big-endian at `offset` (byte by byte: `bytes` may be a view into a larger buffer). */
export function readU32(bytes: Uint8Array, offset: number): number {
  return (((bytes[offset] as number) << 24) | ((bytes[offset + 1] as number) << 16) | ((bytes[offset + 2] as number) << 8) | (bytes[offset + 3] as number)) >>> 0;
}

/** Writes `value` as a u32 big-endian at `offset` (byte by byte: `record` may be a view into a larger buffer). */
export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}
// #endregion encode-record

// #region decode-record
/**
 * Reads the record starting at `offset`. Never throws on bad bytes.
 *
 * At `offset === bytes.length` there is no record at all; that too is reported as
 * `torn` at `offset`, so a reader loops `while (offset < bytes.length)`.
 * @returns the body and the next offset, or the kind of damage and where it starts
 * @throws RangeError when `offset` is not an integer inside `[0, bytes.length]` (a caller bug)
 */
export function decodeCrcRecord(bytes: Uint8Array, offset: number): DecodedRecord | RecordDamage {
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    throw new RangeError(`offset ${offset} is outside [0, ${bytes.length}]`);
  }
  const left = bytes.length - offset;
  if (left < RECORD_HEADER_BYTES) return { error: 'torn', at: offset };
  const length = readU32(bytes, offset);
  const expected = readU32(bytes, offset + 4);
  // The length is untrusted until the checksum matches: bound it before using it.
  if (length > MAX_RECORD_BODY_BYTES) return { error: 'corrupt', at: offset };
  if (left - RECORD_HEADER_BYTES < length) {
    // A length running past the end is a torn write only if the bytes that are there do
    // not already check: a complete body whose CRC32C matches means the length field was
    // damaged, not that the write stopped early.
    const rest = bytes.subarray(offset + RECORD_HEADER_BYTES);
    return { error: rest.length > 0 && crc32c(rest) === expected ? 'corrupt' : 'torn', at: offset };
  }
  const start = offset + RECORD_HEADER_BYTES;
  const body = bytes.subarray(start, start + length);
  if (crc32c(body) !== expected) return { error: 'corrupt', at: offset };
  return { body, next: start + length };
}
// #endregion decode-record

/** True when a {@link decodeCrcRecord} result is damage rather than a record. */
export function isRecordDamage(result: DecodedRecord | RecordDamage): result is RecordDamage {
  return 'error' in result;
}

/**
 * Decodes every record of `bytes`, in order, stopping at the first damaged one.
 * @returns the bodies before the damage, and the damage (undefined when the bytes end cleanly)
 */
export function decodeCrcRecords(bytes: Uint8Array): {
  /** The bodies of the whole records before the first damaged one, in order. */
  readonly bodies: readonly Uint8Array[];
  /** The first damaged record, or undefined when the bytes end cleanly. */
  readonly damage: RecordDamage | undefined;
} {
  const bodies: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const result = decodeCrcRecord(bytes, offset);
    if (isRecordDamage(result)) {
      // A torn record can only be the last bytes written: a whole record after it proves
      // the damage sits in the middle (e.g. a flipped bit made a length run past the end).
      if (result.error === 'torn' && wholeRecordAfter(bytes, offset)) return { bodies, damage: { error: 'corrupt', at: offset } };
      return { bodies, damage: result };
    }
    bodies.push(result.body);
    offset = result.next;
  }
  return { bodies, damage: undefined };
}

/**
 * True when a non-empty record whose CRC32C checks starts anywhere after `offset`: the
 * evidence that damage at `offset` is not a torn tail. Costs a scan of the rest of the
 * bytes, paid only when a record is already damaged.
 */
function wholeRecordAfter(bytes: Uint8Array, offset: number): boolean {
  for (let p = offset + 1; p + RECORD_HEADER_BYTES < bytes.length; p++) {
    const length = readU32(bytes, p);
    if (length === 0 || length > bytes.length - p - RECORD_HEADER_BYTES) continue;
    if (crc32c(bytes.subarray(p + RECORD_HEADER_BYTES, p + RECORD_HEADER_BYTES + length)) === readU32(bytes, p + 4)) return true;
  }
  return false;
}

/**
 * The body of the one record `bytes` must hold, or a coded error.
 * @throws CivicError `E_RECORD_TORN` when the bytes stop early, `E_RECORD_CHECKSUM`
 *   when the checksum or length is wrong or bytes follow the record
 */
export function parseCrcRecord(bytes: Uint8Array): Uint8Array {
  const result = decodeCrcRecord(bytes, 0);
  if (isRecordDamage(result)) {
    throw result.error === 'torn'
      ? fail('E_RECORD_TORN', `Cannot read record: it stops before its end (${bytes.length} bytes)`)
      : fail('E_RECORD_CHECKSUM', 'Cannot read record: its CRC32C checksum does not match its body');
  }
  if (result.next !== bytes.length) {
    throw fail('E_RECORD_CHECKSUM', `Cannot read record: ${bytes.length - result.next} bytes follow its end`);
  }
  return result.body;
}
