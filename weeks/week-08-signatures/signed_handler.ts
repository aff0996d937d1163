/**
 * The signed echo protocol: week 3's frame server with a handler that verifies every
 * request before doing anything with it. A frame holds one signed message (header
 * line, newline, payload); a message that verifies gets week 2's `echo_reply` with
 * its request id and payload; any other gets an `error` reply with the refusal's
 * code. Nothing is processed unless the whole pipeline said yes.
 *
 * The frame server's handler contract is synchronous, so the verifier must sit on a
 * synchronous backend (`node:crypto` or noble).
 * @module
 */
import { isCivicError } from '../../lib/errors.ts';
import { frameMessage } from '../../lib/framing.ts';
import { errorReply, type FrameHandler } from '../../lib/server.ts';
import type { EnvelopeVerifier } from './envelope.ts';

/** Called once per request with its outcome, for logs and tests. */
export type VerdictListener = (outcome: { readonly requestId: string; readonly code: string | undefined }) => void;

/** Reads the request id out of a header we could not verify, for the error reply; `none` when absent. */
function guessRequestId(payload: Uint8Array): string {
  const head = new TextDecoder().decode(payload.subarray(0, 1024));
  const match = /"request_id":"([A-Za-z0-9][A-Za-z0-9._:-]{0,127})"/.exec(head);
  return match?.[1] ?? 'none';
}

// #region signed-handler
/**
 * A frame handler that verifies each request with `verifier` and echoes its payload
 * only when it verified; an empty frame is a keep-alive and gets nothing.
 */
export function signedEchoHandler(verifier: EnvelopeVerifier, listener?: VerdictListener): FrameHandler {
  return (payload, context) => {
    if (payload.length === 0) return { frames: [] };
    try {
      const { envelope, payload: body } = verifier.verifySync(payload);
      listener?.({ requestId: envelope.request_id, code: undefined });
      return { frames: [frameMessage({ type: 'echo_reply', requestId: envelope.request_id, body }, context.maxFrameBytes)], requestId: envelope.request_id };
    } catch (error) {
      // An unverified request id is only an echo for the client's bookkeeping: it is never trusted.
      const requestId = guessRequestId(payload);
      const code = isCivicError(error) ? error.code : 'E_SIG_INVALID';
      listener?.({ requestId, code });
      return errorReply(requestId, code, error instanceof Error ? error.message : String(error));
    }
  };
}
// #endregion signed-handler
