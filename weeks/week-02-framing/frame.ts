/**
 * The frame codec: a 4-byte big-endian length, then that many payload bytes.
 *
 * ```
 *  0      1      2      3      4 …                    4 + length
 * ┌──────┬──────┬──────┬──────┬──────────────────────────┐
 * │      length (uint32, BE)  │ payload (length bytes)   │
 * └──────┴──────┴──────┴──────┴──────────────────────────┘
 * ```
 *
 * TCP delivers a byte stream, not messages: one `read` may hold half a header, three
 * frames, or the tail of one frame and the head of the next. {@link FrameDecoder} is
 * a small state machine that takes chunks of any size and gives back whole payloads.
 * Pure: no Node APIs, so it runs the same in Deno and in a browser.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { FRAME_ERRORS } from './catalog.ts';

const fail = errorFactory(FRAME_ERRORS);

/** Bytes in a frame header. */
export const FRAME_HEADER_BYTES = 4;

/** The default largest payload a frame may carry: 1 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

/** The largest length a 4-byte header can state; no maximum may exceed it. */
export const MAX_FRAME_BYTES_LIMIT = 0xffff_ffff;

/** Checks a maximum frame size argument (a programmer error is a RangeError, not a code). */
function checkMax(maxFrameBytes: number): void {
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > MAX_FRAME_BYTES_LIMIT) {
    throw new RangeError(`maxFrameBytes must be an integer from 0 to ${MAX_FRAME_BYTES_LIMIT}, got ${maxFrameBytes}`);
  }
}

// #region encode-frame
/**
 * Frames one payload: its length as 4 big-endian bytes, then the payload, copied
 * into one new buffer so the caller can write it with a single `write`.
 * @param payload - the bytes to send; may be empty (see {@link FrameDecoder})
 * @param maxFrameBytes - the largest payload allowed
 * @returns header and payload in one buffer
 * @throws {@link CivicError} `E_FRAME_OVERSIZE` when the payload exceeds `maxFrameBytes`,
 *   before anything is allocated
 */
export function encodeFrame(payload: Uint8Array, maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): Uint8Array {
  checkMax(maxFrameBytes);
  if (payload.length > maxFrameBytes) {
    throw fail('E_FRAME_OVERSIZE', `Cannot encode frame: length ${payload.length} exceeds max ${maxFrameBytes}`);
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(frame.buffer).setUint32(0, payload.length, false);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}
// #endregion encode-frame

/** Where a {@link FrameDecoder} stands between two chunks. */
export type FrameDecoderState = 'reading-header' | 'reading-payload' | 'failed';

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** The largest payload accepted; a header announcing more is refused. Default 1 MiB. */
  readonly maxFrameBytes?: number;
  /**
   * Allocates a payload buffer of the given length. Default `new Uint8Array(length)`;
   * tests pass a counting allocator to prove what is and is not allocated.
   */
  readonly allocate?: (length: number) => Uint8Array;
  /**
   * When false, a frame that lies whole inside one chunk is returned as a view of that
   * chunk instead of a copy (only frames split across chunks are assembled in a new
   * buffer). Safe only for callers that never reuse a chunk's memory, as a Node socket
   * never does; a view also keeps its whole chunk alive. Default true.
   */
  readonly copy?: boolean;
}

// #region decoder-states
/**
 * An incremental frame decoder with explicit states. Feed it chunks with `push`; it
 * returns the payloads those chunks completed, in order. At the end of the stream,
 * `end` says whether the stream stopped inside a frame.
 *
 * ```
 *                      4 header bytes in, length ≤ max: allocate payload
 *   ┌────────────────┐ ───────────────────────────────────▶ ┌─────────────────┐
 *   │ reading-header │                                      │ reading-payload │
 *   └────────────────┘ ◀─────────────────────────────────── └─────────────────┘
 *      │  │ length = 0: emit an empty payload, stay         payload full: emit it
 *      │  └──────────────────────────────────────┘
 *      │ length > max (known from the 4 header bytes alone, nothing allocated)
 *      ▼
 *   ┌────────┐  every later push or end throws the same E_FRAME_OVERSIZE: after a
 *   │ failed │  bad length there is no way to find the next frame boundary
 *   └────────┘
 * ```
 * Invariants: the header is gathered in a fixed 4-byte array made once; a payload
 * buffer exists only in `reading-payload` and is exactly the announced length, never
 * more than `maxFrameBytes`.
 *
 * Zero-length frames are valid: the codec is total over every length from 0 to the
 * maximum. The echo server reads an empty payload as a keep-alive.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  readonly #allocate: (length: number) => Uint8Array;
  readonly #copy: boolean;
  readonly #header = new Uint8Array(FRAME_HEADER_BYTES);
  readonly #headerView = new DataView(this.#header.buffer);
  #state: FrameDecoderState = 'reading-header';
  #headerFilled = 0;
  #payload: Uint8Array | undefined;
  #payloadFilled = 0;
  #failure: Error | undefined;
  // #endregion decoder-states

  /** @param options - the maximum payload size and, for tests, the allocator */
  constructor(options: FrameDecoderOptions = {}) {
    const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    checkMax(maxFrameBytes);
    this.#maxFrameBytes = maxFrameBytes;
    this.#allocate = options.allocate ?? ((length) => new Uint8Array(length));
    this.#copy = options.copy ?? true;
  }

  /** The current state. */
  get state(): FrameDecoderState {
    return this.#state;
  }

  /** Bytes of an unfinished frame held so far, header included; 0 at a frame boundary. */
  get pendingBytes(): number {
    return this.#state === 'reading-payload' ? FRAME_HEADER_BYTES + this.#payloadFilled : this.#headerFilled;
  }

  /** The payload length the current frame announced, while in `reading-payload`. */
  get expectedBytes(): number | undefined {
    return this.#payload?.length;
  }

  // #region decoder-push
  /**
   * Consumes one chunk of the stream.
   * @param chunk - the next bytes, of any length (empty is fine); not kept after return
   *   unless `copy` is false
   * @returns the payloads completed by this chunk: fresh copies, or views of `chunk`
   *   when the decoder was made with `copy: false`
   * @throws {@link CivicError} `E_FRAME_OVERSIZE` as soon as a header announces more than
   *   the maximum; the decoder then stays failed
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure !== undefined) throw this.#failure;
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#state === 'reading-header') {
        const take = Math.min(FRAME_HEADER_BYTES - this.#headerFilled, chunk.length - offset);
        this.#header.set(chunk.subarray(offset, offset + take), this.#headerFilled);
        this.#headerFilled += take;
        offset += take;
        if (this.#headerFilled < FRAME_HEADER_BYTES) break; // a short header: wait for more
        this.#headerFilled = 0;
        const length = this.#checkedLength();
        if (length === 0) {
          frames.push(new Uint8Array(0));
          continue;
        }
        if (!this.#copy && chunk.length - offset >= length) {
          // Whole in this chunk: a plain Uint8Array view (a Buffer's subarray would be a Buffer).
          frames.push(new Uint8Array(chunk.buffer, chunk.byteOffset + offset, length));
          offset += length;
          continue;
        }
        this.#payload = this.#allocate(length);
        this.#payloadFilled = 0;
        this.#state = 'reading-payload';
      } else {
        const payload = this.#payload as Uint8Array;
        const take = Math.min(payload.length - this.#payloadFilled, chunk.length - offset);
        payload.set(chunk.subarray(offset, offset + take), this.#payloadFilled);
        this.#payloadFilled += take;
        offset += take;
        if (this.#payloadFilled < payload.length) break; // a partial payload: wait for more
        frames.push(payload);
        this.#payload = undefined;
        this.#state = 'reading-header';
      }
    }
    return frames;
  }
  // #endregion decoder-push

  // #region oversize-check
  /**
   * Reads the length from the 4 gathered header bytes and refuses it if it is over the
   * maximum. Nothing has been allocated for this frame yet: the length is attacker
   * controlled, so it is checked before it sizes anything.
   */
  #checkedLength(): number {
    const length = this.#headerView.getUint32(0, false);
    if (length > this.#maxFrameBytes) {
      this.#state = 'failed';
      this.#failure = fail('E_FRAME_OVERSIZE', `Cannot decode frame: length ${length} exceeds max ${this.#maxFrameBytes}`);
      throw this.#failure;
    }
    return length;
  }
  // #endregion oversize-check

  // #region decoder-end
  /**
   * Ends the stream. A stream may only end at a frame boundary; the decoder is reset
   * afterwards (unless it failed, which is final).
   * @throws {@link CivicError} `E_FRAME_TRUNCATED` for a short header or a cut-off
   *   payload, naming how many bytes arrived; the stored `E_FRAME_OVERSIZE` if failed
   */
  end(): void {
    if (this.#failure !== undefined) throw this.#failure;
    const headerBytes = this.#headerFilled;
    const payload = this.#payload;
    const payloadBytes = this.#payloadFilled;
    this.#state = 'reading-header';
    this.#headerFilled = 0;
    this.#payload = undefined;
    this.#payloadFilled = 0;
    if (payload !== undefined) {
      throw fail('E_FRAME_TRUNCATED', `Cannot decode frame: stream ended after ${payloadBytes} of ${payload.length} payload bytes`);
    }
    if (headerBytes > 0) {
      throw fail('E_FRAME_TRUNCATED', `Cannot decode frame: stream ended after ${headerBytes} of ${FRAME_HEADER_BYTES} header bytes`);
    }
  }
  // #endregion decoder-end
}
