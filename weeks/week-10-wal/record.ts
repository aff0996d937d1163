/**
 * The WAL record (pure): what one logged command looks like on disk, and the scanner
 * that reads a segment back and stops at the first record it cannot trust.
 *
 * One record is week 9's length-prefixed, CRC32C-checked frame around a body of our own:
 *
 * ```text
 * ┌──────────────┬──────────────┬──────────────────────────────────────────────────────┐
 * │ u32 BE length│ u32 BE crc32c│ body (length bytes)                                  │
 * │ of the body  │ of the body  │ u32 BE n │ n bytes canonical JSON header │ value bytes│
 * └──────────────┴──────────────┴──────────────────────────────────────────────────────┘
 *   header = {"if_version","key","lsn","op","request_id","term","value_hash"}  (RFC 8785 order)
 * ```
 *
 * The frame's CRC32C is the record's `checksum`; `value_hash` is the SHA-256 of the value
 * bytes, so a record whose frame checks but whose value was swapped is still caught.
 * @module
 */
import { bytesEqual, canonicalBytes, fromHex, sha256, sha256Hex } from '../../lib/hashing.ts';
import { decodeCrcRecord, readU32, sealCrcRecord, writeU32 } from './_codec.ts';
import { ByteSlab } from './byte_slab.ts';

/** The operations a WAL record can carry (week 9's mutating KV commands). */
export type WalOp = 'put' | 'delete';

/** What a caller appends: a mutating command, before the log gives it an LSN. */
export interface WalEntry {
  /** The term the command was accepted in (1 until replication arrives in week 11). */
  readonly term: number;
  /** `put` or `delete`. */
  readonly op: WalOp;
  /** The key the command writes. */
  readonly key: string;
  /** The request id the state machine dedupes on; replay must see it to rebuild the dedupe table. */
  readonly request_id: string;
  /** Week 9's compare-and-set guard, or null: replay must see it to reach the same verdict. */
  readonly if_version: number | null;
  /** The value bytes (empty for `delete`). */
  readonly value: Uint8Array;
}

/** A logged command: the entry plus the fields the log adds. */
export interface WalRecord extends WalEntry {
  /** Log sequence number: 1, 2, 3, … with no gaps across segments. */
  readonly lsn: number;
  /** Lowercase hex SHA-256 of {@link WalEntry.value}. */
  readonly value_hash: string;
  /** The CRC32C of the record's body, as stored in its frame. */
  readonly checksum: number;
}

/** A record as bytes to append, and the record those bytes stand for. */
export interface EncodedWalRecord {
  /** The framed bytes: length, CRC32C, body. */
  readonly bytes: Uint8Array;
  /** The record, with its LSN, value hash and checksum filled in. */
  readonly record: WalRecord;
}

/** Bytes in the frame before the body: the length and the CRC32C. */
export const RECORD_HEADER_BYTES = 8;

// #region wal-encode
/** Where records are built: slices of shared slabs, not an array each (see byte_slab.ts). */
const RECORDS = new ByteSlab();
const utf8 = new TextEncoder();

/**
 * Encodes one record: canonical JSON header + value bytes, framed with week 9's
 * length prefix and CRC32C. The record is built in place (one slab slice, no copies)
 * and then sealed with `sealCrcRecord`.
 * @param lsn - the record's log sequence number
 * @param entry - the command
 * @param hashHex - lowercase hex SHA-256 of bytes (default: the pure `@noble/hashes` one;
 *   the Node log passes `node:crypto`'s, which writes the same digest faster)
 * @returns the bytes to append to the segment, and the record they stand for
 */
export function encodeWalRecord(lsn: number, entry: WalEntry, hashHex: (bytes: Uint8Array) => string = sha256Hex): EncodedWalRecord {
  const value_hash = hashHex(entry.value);
  const text = headerText(lsn, entry, value_hash);
  // A plain-ASCII header is its own UTF-8: its length is its byte count.
  const header = text === null ? canonicalBytes({ if_version: entry.if_version, key: entry.key, lsn, op: entry.op, request_id: entry.request_id, term: entry.term, value_hash }) : null;
  const n = header === null ? (text as string).length : header.length;
  const at = RECORD_HEADER_BYTES + 4;
  const bytes = RECORDS.take(at + n + entry.value.length);
  writeU32(bytes, RECORD_HEADER_BYTES, n);
  if (header !== null) bytes.set(header, at);
  else utf8.encodeInto(text as string, bytes.subarray(at, at + n));
  bytes.set(entry.value, at + n);
  sealCrcRecord(bytes);
  const checksum = readU32(bytes, 4);
  return { bytes, record: { term: entry.term, op: entry.op, key: entry.key, request_id: entry.request_id, if_version: entry.if_version, value: entry.value, lsn, value_hash, checksum } };
}
// #endregion wal-encode

/** Printable ASCII other than `"` and `\\`: a string of these is its own JCS form between quotes. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** True for a number JCS writes as `String(n)` (every finite one; the header's are integers). */
function plainNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * The header's canonical JSON (RFC 8785 name order) written directly, or null when a field
 * is not plain (non-ASCII or escaped text, an odd number): those take week 7's `canonicalBytes`.
 */
function headerText(lsn: number, entry: WalEntry, value_hash: string): string | null {
  const { if_version, key, op, request_id, term } = entry;
  if ((if_version !== null && !plainNumber(if_version)) || !plainNumber(lsn) || !plainNumber(term)) return null;
  if ((op !== 'put' && op !== 'delete') || typeof key !== 'string' || typeof request_id !== 'string') return null;
  if (!PLAIN_ASCII.test(key) || !PLAIN_ASCII.test(request_id) || !PLAIN_ASCII.test(value_hash)) return null;
  return `{"if_version":${if_version === null ? 'null' : String(if_version)},"key":"${key}","lsn":${String(lsn)},"op":"${op}","request_id":"${request_id}","term":${String(term)},"value_hash":"${value_hash}"}`;
}

/** One strict decoder for every header (a fresh one per record costs more than the parse). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a body whose CRC32C already checked; returns null when its fields are not a record. */
function parseBody(body: Uint8Array, checksum: number): WalRecord | null {
  if (body.length < 4) return null;
  const n = readU32(body, 0);
  if (n > body.length - 4) return null;
  let header: unknown;
  try {
    header = JSON.parse(UTF8.decode(body.subarray(4, 4 + n)));
  } catch {
    return null;
  }
  if (typeof header !== 'object' || header === null) return null;
  const h = header as Record<string, unknown>;
  const { lsn, term, op, key, request_id, value_hash, if_version } = h;
  if (if_version !== null && (!Number.isSafeInteger(if_version) || (if_version as number) < 0)) return null;
  if (!Number.isSafeInteger(lsn) || (lsn as number) < 1) return null;
  if (!Number.isSafeInteger(term) || (term as number) < 0) return null;
  if (op !== 'put' && op !== 'delete') return null;
  if (typeof key !== 'string' || typeof request_id !== 'string' || typeof value_hash !== 'string') return null;
  const value = body.slice(4 + n);
  // The frame's CRC32C guards against bit rot; the hash ties the value to its header.
  if (!/^[0-9a-f]{64}$/.test(value_hash) || !bytesEqual(sha256(value), fromHex(value_hash))) return null;
  return { lsn: lsn as number, term: term as number, op, key, request_id, if_version: if_version as number | null, value_hash, value, checksum };
}

/** Why a scan stopped early: a record cut short (`torn`) or one that fails its checks (`corrupt`). */
export interface ScanDamage {
  /**
   * `torn`: the bytes end inside the last record (or in zero fill) and nothing verifiable
   * follows; `corrupt`: a complete record fails a check, or a record claims to run past the
   * end while its bytes already check or a whole record follows it.
   */
  readonly kind: 'torn' | 'corrupt';
  /** Byte offset of the first untrusted record; everything from here on is quarantined. */
  readonly at: number;
  /** What was wrong, for the error message. */
  readonly reason: string;
}

/** The outcome of {@link scanWal}. */
export interface ScanResult {
  /** Every record before the first bad one, in order. */
  readonly records: readonly WalRecord[];
  /** Byte offset just past the last good record: the segment's valid length. */
  readonly end: number;
  /** The damage that stopped the scan, or null when every byte was a good record. */
  readonly damage: ScanDamage | null;
}

/** True when every byte of `bytes` from `offset` is zero (a file extended but never written). */
function zeroFrom(bytes: Uint8Array, offset: number): boolean {
  for (let i = offset; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Every header starts with these bytes (RFC 8785 puts `if_version` first): a cheap filter before a CRC. */
const HEADER_START = utf8.encode('{"if_version":');

/**
 * The first whole, valid WAL record that starts after `offset`, or null: the evidence that
 * damage at `offset` is not a torn tail. Paid only when a record is already damaged.
 */
function recordAfter(bytes: Uint8Array, offset: number): { at: number; lsn: number } | null {
  const skip = RECORD_HEADER_BYTES + 4;
  for (let p = offset + 1; p + skip + HEADER_START.length <= bytes.length; p++) {
    let match = true;
    for (let i = 0; i < HEADER_START.length && match; i++) match = bytes[p + skip + i] === HEADER_START[i];
    if (!match) continue;
    const frame = decodeCrcRecord(bytes, p);
    if ('error' in frame) continue;
    const record = parseBody(frame.body, readU32(bytes, p + 4));
    if (record !== null) return { at: p, lsn: record.lsn };
  }
  return null;
}

/**
 * The LSNs of the whole records found after damage at `offset` (the first found, then as many
 * as follow it in order), or null when nothing verifiable follows: the extent of what a
 * corruption in the middle of a segment puts at stake.
 * @param bytes - the whole segment
 * @param offset - where the damaged record starts
 * @returns the first and last LSN found intact after the damage, or null
 */
export function recordsAfter(bytes: Uint8Array, offset: number): {
  /** The LSN of the first whole record found after the damage. */
  readonly first: number;
  /** The LSN of the last of the records that follow it in order. */
  readonly last: number;
} | null {
  const found = recordAfter(bytes, offset);
  if (found === null) return null;
  const rest = scanWal(bytes.subarray(found.at), found.lsn);
  return { first: found.lsn, last: found.lsn + rest.records.length - 1 };
}

// #region wal-scan
/**
 * Reads a segment's records in order and stops at the first one it cannot trust: a
 * frame cut short, a CRC32C mismatch, a body that is not a record, or an LSN that does
 * not follow the previous one. Never throws on bad bytes; the caller decides what the
 * damage means (quarantine, then E_WAL_TORN or E_WAL_CORRUPT).
 * @param bytes - the whole segment
 * @param firstLsn - the LSN the segment's first record must carry
 * @returns the good records, the valid length and the damage, if any
 */
export function scanWal(bytes: Uint8Array, firstLsn: number): ScanResult {
  const records: WalRecord[] = [];
  let offset = 0;
  let expected = firstLsn;
  while (offset < bytes.length) {
    // A crash can leave a tail of zeros (the file grew, the data never landed): torn.
    if (zeroFrom(bytes, offset)) return { records, end: offset, damage: { kind: 'torn', at: offset, reason: 'zero-filled tail' } };
    const frame = decodeCrcRecord(bytes, offset);
    if ('error' in frame) {
      // A torn record can only be the last bytes written: a whole record after it is
      // evidence that a length field was damaged in the middle, and that is corruption.
      const after = frame.error === 'torn' ? recordAfter(bytes, offset) : null;
      if (after !== null) {
        return { records, end: offset, damage: { kind: 'corrupt', at: offset, reason: `length field runs past the end, but a whole record (lsn ${after.lsn}) starts at byte ${after.at}` } };
      }
      const reason = frame.error === 'torn' ? 'record cut short' : 'CRC32C mismatch';
      return { records, end: offset, damage: { kind: frame.error, at: offset, reason } };
    }
    const record = parseBody(frame.body, readU32(bytes, offset + 4));
    if (record === null) return { records, end: offset, damage: { kind: 'corrupt', at: offset, reason: 'body is not a WAL record' } };
    if (record.lsn !== expected) {
      return { records, end: offset, damage: { kind: 'corrupt', at: offset, reason: `lsn ${record.lsn} where ${expected} was expected` } };
    }
    records.push(record);
    expected++;
    offset = frame.next;
  }
  return { records, end: offset, damage: null };
}
// #endregion wal-scan
