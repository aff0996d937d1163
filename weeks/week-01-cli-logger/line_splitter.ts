/**
 * An incremental line splitter with a hard cap on line length, so reading a log
 * never holds more than one maximum-size line in memory, whatever the file holds.
 * @module
 */
import { concatBytes } from './bytes.ts';

/** One piece of output of {@link LineSplitter}. */
export type SplitLine =
  | {
    /** A complete line, without its `\n`. */
    readonly kind: 'line';
    /** Its 1-based number in the stream. */
    readonly lineNo: number;
    /** Its bytes (a copy: safe to keep). */
    readonly bytes: Uint8Array;
  }
  | {
    /** A line longer than the cap: its bytes were discarded, not kept. */
    readonly kind: 'too-long';
    /** Its 1-based number in the stream. */
    readonly lineNo: number;
    /** How many bytes it had, newline excluded. */
    readonly length: number;
  };

const NEWLINE = 0x0a;

// #region line-splitter
/**
 * Splits a byte stream into lines. Feed it chunks of any size with `push`; call
 * `end` once at the end of the stream to learn whether bytes were left without a
 * final newline (a torn tail).
 *
 * ```
 *  chunks:  [ab\ncd] [ef\n] [gh]
 *  lines:    "ab"    "cdef"       tail: 2 bytes ("gh"), no newline
 * ```
 * Invariant: `#pending` never holds more than `maxLineBytes` bytes.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  #pending: Uint8Array[] = [];
  #pendingLength = 0;
  #discarding = false;
  #lineNo = 0;

  /** @param maxLineBytes - the longest line kept, newline excluded (0 keeps only empty lines) */
  constructor(maxLineBytes: number) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 0) throw new RangeError('maxLineBytes must be a non-negative integer');
    this.#maxLineBytes = maxLineBytes;
  }

  /** Consumes one chunk and returns the lines it completed. */
  push(chunk: Uint8Array): SplitLine[] {
    const out: SplitLine[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      this.#take(chunk.subarray(start, end));
      if (nl === -1) break;
      out.push(this.#finishLine());
      start = nl + 1;
    }
    return out;
  }

  /**
   * Ends the stream.
   * @returns the number of bytes after the last newline (0 when the stream ended
   *   cleanly), and the number the next line would have had
   */
  end(): {
    /** Bytes after the last newline: 0 when the stream ended cleanly. */
    readonly tailBytes: number;
    /** The number the unfinished line would have had. */
    readonly lineNo: number;
  } {
    const tail = { tailBytes: this.#pendingLength, lineNo: this.#lineNo + 1 };
    this.#pending = [];
    this.#pendingLength = 0;
    this.#discarding = false;
    return tail;
  }

  #take(part: Uint8Array): void {
    this.#pendingLength += part.length;
    if (this.#pendingLength > this.#maxLineBytes) {
      this.#discarding = true;
      this.#pending = [];
    }
    // Copy: the caller may reuse its read buffer for the next chunk.
    if (!this.#discarding && part.length > 0) this.#pending.push(part.slice());
  }

  #finishLine(): SplitLine {
    this.#lineNo += 1;
    const length = this.#pendingLength;
    const line: SplitLine = this.#discarding
      ? { kind: 'too-long', lineNo: this.#lineNo, length }
      : { kind: 'line', lineNo: this.#lineNo, bytes: concatBytes(this.#pending, length) };
    this.#pending = [];
    this.#pendingLength = 0;
    this.#discarding = false;
    return line;
  }
}
// #endregion line-splitter
