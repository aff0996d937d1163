/**
 * Two extension points of the overload server, for servers built on it (the signed
 * CivicTrust node of month 2): a request gate that opens each frame before it is
 * parsed as a task, and a listener told about every answer sent.
 *
 * The gate splits its work in two on purpose. `tryOpen` runs on the main thread for
 * every frame, before admission, so it must be cheap (parsing, lookups, one hash).
 * The `authorize` step it may return runs only for a request the ladder admitted,
 * inside a worker slot, just before the task: the place for expensive checks such
 * as signature verification, which a server past its reject line must never pay for.
 * @module
 */
import type { DeadlineStage } from './deadline.ts';

/** What a gate made of one frame. */
export type GateVerdict =
  | {
    /** The frame may go on to admission. */
    readonly ok: true;
    /** The request id the frame claims; the task inside must carry the same one. */
    readonly requestId: string;
    /** The task request's bytes (header line, newline, body) inside the frame. */
    readonly payload: Uint8Array;
    /**
     * The expensive part of the check, run after admission in a worker slot; a rejection
     * with a coded error answers the request with that code instead of running the task.
     */
    readonly authorize?: () => Promise<void>;
  }
  | {
    /** The frame is refused before admission. */
    readonly ok: false;
    /** The request id it claims, for the error answer only (never trusted), or `none`. */
    readonly requestId: string;
    /** The refusal's `E_*` code. */
    readonly errorCode: string;
    /** The human message. */
    readonly message: string;
  };

/** Opens request frames; see the module comment for what runs where. */
export interface RequestGate {
  /** Checks one frame cheaply; never throws. */
  tryOpen(frame: Uint8Array): GateVerdict;
}

/** One answer the server sent. */
export interface AnswerEvent {
  /** The request id the answer carries (`none` when the frame could not be read). */
  readonly requestId: string;
  /** True for a result, false for any refusal, drop or failure. */
  readonly ok: boolean;
  /** The `E_*` code of a refusal, drop or failure. */
  readonly errorCode?: string;
  /** For a deadline drop: the stage that noticed. */
  readonly stage?: DeadlineStage;
  /** For an overload refusal: the retry hint (ms). */
  readonly retryAfterMs?: number;
  /** From the request's first byte to the answer being queued for the client (ms). */
  readonly latencyMs: number;
}

/** Called once for every answer a connection queues. */
export type AnswerListener = (event: AnswerEvent) => void;
