/**
 * The durable nonce log, pure part: how one remembered nonce is written as a line,
 * and how a whole log is read back, telling a torn tail from corruption.
 *
 * A nonce cache in memory forgets everything when the process stops, and the time
 * window does not cover the gap: a message signed a second before a restart is still
 * inside the window after it. So the node appends every nonce it accepts to a file
 * and syncs it before the request runs, and reads the file back on start.
 *
 * ```
 *  h <horizon> <check>                              first line of a compacted log
 *  n <timestamp> <seen_at> <key_id> <nonce> <check> one accepted nonce
 *  check = first 8 hex digits of SHA-256 of the line before " <check>"
 * ```
 *
 * The timestamp is stored, not the expiry, so a restart with a longer `--max-age-ms`
 * keeps a nonce for the new, longer window. `seen_at` (the verifier's clock when it
 * was accepted) restores the horizon: a clock that stepped back across the restart
 * cannot reopen the window for nonces already forgotten.
 *
 * Damage is judged with evidence: every line is checked, so a flipped bit anywhere is
 * caught. Only the bytes after the last newline can be a torn write (the process
 * died inside the `write` of an entry, before its sync, so before the request ran);
 * they are dropped. A complete line that fails its check is corruption, and corruption
 * is never skipped: `E_REPLAY_STORE_CORRUPT`, and the node refuses to start.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { sha256Hex } from '../../lib/hashing.ts';
import { SIGN_ERRORS } from './catalog.ts';

const fail = errorFactory(SIGN_ERRORS);

/** One nonce accepted by the verifier. */
export interface NonceEntry {
  /** The message's timestamp, ms since the epoch. */
  readonly timestamp: number;
  /** The verifier's clock when it accepted the message, ms since the epoch. */
  readonly seenAt: number;
  /** The key that signed it. */
  readonly keyId: string;
  /** The message's nonce (base64url). */
  readonly nonce: string;
}

/** What {@link parseNonceLog} found. */
export interface ParsedNonceLog {
  /** The horizon recorded by the last compaction, or -Infinity. */
  readonly horizon: number;
  /** Every entry, in file order. */
  readonly entries: readonly NonceEntry[];
  /** Bytes after the last newline: a torn final write, never acknowledged. */
  readonly tornBytes: number;
}

const TOKEN = /^[A-Za-z0-9._:@-]{1,200}$/;
const INTEGER = /^-?\d{1,16}$/;

function check(body: string): string {
  return sha256Hex(new TextEncoder().encode(body)).slice(0, 8);
}

/**
 * One entry as a log line, newline included.
 * @throws RangeError when a field could not be read back (a key id or nonce with spaces)
 */
export function encodeNonceEntry(entry: NonceEntry): string {
  if (!TOKEN.test(entry.keyId) || !TOKEN.test(entry.nonce) || !Number.isSafeInteger(Math.trunc(entry.timestamp)) || !Number.isFinite(entry.seenAt)) {
    throw new RangeError(`nonce entry cannot be logged: ${JSON.stringify(entry)}`);
  }
  const body = `n ${Math.trunc(entry.timestamp)} ${Math.floor(entry.seenAt)} ${entry.keyId} ${entry.nonce}`;
  return `${body} ${check(body)}\n`;
}

/** The header line of a compacted log: the horizon the entries after it were kept for. */
export function encodeHorizon(horizon: number): string {
  const body = `h ${Number.isFinite(horizon) ? Math.floor(horizon) : 0}`;
  return `${body} ${check(body)}\n`;
}

// #region parse-nonce-log
/**
 * Reads a whole nonce log back.
 * @param text - the file's contents
 * @param where - the file's path, for the error message
 * @throws {@link CivicError} `E_REPLAY_STORE_CORRUPT` naming the line and byte offset of
 *   the first complete line that does not check
 */
export function parseNonceLog(text: string, where: string): ParsedNonceLog {
  const end = text.lastIndexOf('\n') + 1;
  const entries: NonceEntry[] = [];
  let horizon = Number.NEGATIVE_INFINITY;
  let offset = 0;
  let lineNo = 0;
  while (offset < end) {
    const next = text.indexOf('\n', offset);
    const line = text.slice(offset, next);
    lineNo += 1;
    const cut = line.lastIndexOf(' ');
    const body = line.slice(0, cut);
    const parts = body.split(' ');
    const ok = cut > 0 && line.slice(cut + 1) === check(body) && (
      (parts[0] === 'h' && parts.length === 2 && INTEGER.test(parts[1] ?? '') && lineNo === 1) ||
      (parts[0] === 'n' && parts.length === 5 && INTEGER.test(parts[1] ?? '') && INTEGER.test(parts[2] ?? '') && TOKEN.test(parts[3] ?? '') && TOKEN.test(parts[4] ?? '')));
    if (!ok) {
      throw fail('E_REPLAY_STORE_CORRUPT', `Cannot load nonce store ${where}: line ${lineNo} (byte ${offset}) is damaged; the nonces it held are unknown, so the node will not start`);
    }
    if (parts[0] === 'h') horizon = Number(parts[1]);
    else entries.push({ timestamp: Number(parts[1]), seenAt: Number(parts[2]), keyId: parts[3] as string, nonce: parts[4] as string });
    offset = next + 1;
  }
  return { horizon, entries, tornBytes: text.length - end };
}
// #endregion parse-nonce-log

/**
 * True when the log holds enough dead lines that rewriting it is worth one pass:
 * more than twice the live entries, and at least `floor` lines.
 */
export function shouldCompact(lines: number, live: number, floor = 4096): boolean {
  return lines >= floor && lines > 2 * live;
}
