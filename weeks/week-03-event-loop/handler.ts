/**
 * What the server does with a request: a handler turns one frame payload into zero or
 * more reply frames. The server owns the sockets, the state machine and the limits;
 * the handler owns the protocol. This week serves week 2's echo format; later weeks
 * plug in other protocols without touching the loop.
 *
 * A handler runs on the event loop, so it must return quickly: every millisecond it
 * spends is a millisecond no other client is served (the gate proves the server
 * notices one that does not).
 * @module
 */
import { isCivicError } from '../../lib/errors.ts';
import { MAX_FRAME_BYTES_LIMIT, frameMessage, parseMessage } from '../../lib/framing.ts';

/** What a handler knows about the request's connection. */
export interface RequestContext {
  /** The connection's id in the server log, e.g. `c17`. */
  readonly connectionId: string;
  /** The largest frame payload the server accepts and sends. */
  readonly maxFrameBytes: number;
}

// #region handler-contract
/** A handler's answer to one request frame. */
export interface HandlerResult {
  /** Whole reply frames (length prefix included), written in order; empty for no reply. */
  readonly frames: readonly Uint8Array[];
  /** The request id, for the log; absent when the request had none (a keep-alive, a malformed frame). */
  readonly requestId?: string;
  /** The `E_*` code when the reply reports a failure, for the log's `error_code`. */
  readonly errorCode?: string;
}

/**
 * Answers one request frame. Synchronous on purpose: frames in, frames out, in
 * order, with nothing left in flight when a connection closes. A handler reports
 * protocol failures as error replies; if it throws, the server answers for it with
 * `E_SERVER_HANDLER`.
 */
export type FrameHandler = (payload: Uint8Array, context: RequestContext) => HandlerResult;
// #endregion handler-contract

const encoder = new TextEncoder();

// #region echo-handler
/**
 * The echo protocol of week 2: an `echo` request gets an `echo_reply` with the same
 * request id and body; anything else gets an `error` reply naming the code; an empty
 * payload is a keep-alive and gets nothing.
 * @returns a handler for {@link FrameServer}
 */
export function echoHandler(): FrameHandler {
  return (payload, context) => {
    if (payload.length === 0) return { frames: [] };
    let requestId = 'none';
    try {
      const request = parseMessage(payload);
      requestId = request.requestId;
      if (request.type !== 'echo') return errorReply(requestId, 'E_MESSAGE_MALFORMED', `Cannot answer message: type ${request.type} is not a request`);
      // The reply's header is a few bytes longer than the request's, so it may not fit.
      return { frames: [frameMessage({ type: 'echo_reply', requestId, body: request.body }, context.maxFrameBytes)], requestId };
    } catch (error) {
      const code = isCivicError(error) ? error.code : 'E_MESSAGE_MALFORMED';
      return errorReply(requestId, code, error instanceof Error ? error.message : String(error));
    }
  };
}
// #endregion echo-handler

/**
 * An `error` reply frame in week 2's message format, for any handler to return.
 * @param requestId - the request's id, or `none` when it had none
 * @param errorCode - the `E_*` code
 * @param message - the human text, sent as the body
 */
export function errorReply(requestId: string, errorCode: string, message: string): HandlerResult {
  // An error reply is a few hundred bytes at most; it is never refused for size.
  const frame = frameMessage({ type: 'error', requestId, errorCode, body: encoder.encode(message) }, MAX_FRAME_BYTES_LIMIT);
  return { frames: [frame], requestId, errorCode };
}
