/**
 * Backpressure for a server that answers pipelined requests asynchronously: week 3's
 * outbound limits (pause reading once the reply queue reaches the low watermark), plus a
 * bound on the requests a connection has sent and not yet been answered. Past either
 * bound the socket stops reading, so the kernel's buffers fill and TCP flow control
 * slows the client down; nothing already accepted is dropped.
 *
 * Week 3's FrameServer answers each frame before it reads the next, so its reply queue
 * was the only thing that could grow. Here a request becomes a promise, and a reader
 * that never stops turns every byte a client sends into a pending promise holding its
 * frame: the KV server grew by hundreds of MiB that way before this module existed.
 * @module
 */
import type { Socket } from 'node:net';
import { DEFAULT_OUTBOUND_LIMITS, checkOutboundLimits, type OutboundLimits } from '../../lib/server.ts';

/** Week 3's {@link OutboundLimits} plus a bound on the requests in flight per connection. */
export interface PipelineLimits extends OutboundLimits {
  /** At this many requests read and not yet answered, stop reading; resume at half of it. */
  readonly maxPipelined: number;
}

/** Week 3's default outbound limits and at most 32 requests in flight per connection. */
export const DEFAULT_PIPELINE_LIMITS: PipelineLimits = { ...DEFAULT_OUTBOUND_LIMITS, maxPipelined: 32 };

/**
 * Pauses and resumes reading one socket. Call {@link PipelineBackpressure.accepted} for
 * each request read and {@link PipelineBackpressure.answered} once its answer is written
 * (or given up); 'drain' is watched here. Reading pauses when the requests in flight reach
 * `maxPipelined` or the socket holds `lowWatermarkBytes` of replies, and resumes once both
 * are back under half.
 */
export class PipelineBackpressure {
  readonly #socket: Socket;
  readonly #limits: PipelineLimits;
  #inFlight = 0;
  #paused = false;
  #pauses = 0;

  /**
   * @param socket - the connection to pause and resume
   * @param limits - see {@link PipelineLimits}
   * @throws RangeError for limits week 3's `checkOutboundLimits` refuses, or `maxPipelined` below 1
   */
  constructor(socket: Socket, limits: PipelineLimits = DEFAULT_PIPELINE_LIMITS) {
    checkOutboundLimits(limits);
    if (!Number.isSafeInteger(limits.maxPipelined) || limits.maxPipelined < 1) {
      throw new RangeError(`maxPipelined must be a whole number of at least 1, got ${limits.maxPipelined}`);
    }
    this.#socket = socket;
    this.#limits = limits;
    socket.on('drain', () => this.#check());
  }

  /** Requests read and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** How many times reading was paused. */
  get pauses(): number {
    return this.#pauses;
  }

  /** A request was read: count it, and pause if that reaches a bound. */
  accepted(): void {
    this.#inFlight += 1;
    this.#check();
  }

  /** A request's answer was written (or the connection is gone): uncount it, and resume if under both bounds. */
  answered(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    this.#check();
  }

  #check(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;
    const queued = socket.writableLength;
    if (!this.#paused) {
      if (this.#inFlight >= this.#limits.maxPipelined || queued >= this.#limits.lowWatermarkBytes) {
        this.#paused = true;
        this.#pauses += 1;
        socket.pause();
      }
      return;
    }
    if (this.#inFlight <= this.#limits.maxPipelined / 2 && queued < this.#limits.lowWatermarkBytes / 2) {
      this.#paused = false;
      socket.resume();
    }
  }
}
