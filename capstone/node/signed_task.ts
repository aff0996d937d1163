/**
 * The signed task protocol of the month 2 node: week 6's task request travels as the
 * payload of a week 8 signed envelope, one envelope per frame.
 *
 * ```
 *  frame   = length (4 bytes, big-endian) ‖ signed message
 *  signed message = envelope header (JCS, one line) ‖ "\n" ‖ task request
 *  task request   = {"v":1,"type":"task","request_id":…,"task":…,"arg":…,"priority":…,"timeout_ms":…} ‖ "\n" ‖ body
 *  envelope.msg_type = "task", envelope.request_id = the task's request_id
 * ```
 *
 * Because the task request sits inside the signed payload, everything a client asks
 * for (the task, its size, its priority, its time budget) is covered by the signature.
 * Answers are week 6's unsigned `task_reply` and `error` frames.
 *
 * {@link signedTaskGate} is the server half: the request gate that week 6's overload
 * server runs on every frame. It splits week 8's verifier in two: the cheap checks
 * (`precheck`) run before admission, and the curve math plus the nonce record
 * (`complete`) become the gate's `authorize` step, which the overload controller runs
 * only for admitted requests, inside a worker slot.
 * @module
 */
import type { Clock } from '../../lib/clock.ts';
import { isCivicError } from '../../lib/errors.ts';
import { encodeFrame } from '../../lib/framing.ts';
import { encodeTaskRequest, type GateVerdict, type RequestGate, type TaskRequest } from '../../lib/overload.ts';
import { encodeSignedMessage, signEnvelope, type EnvelopeVerifier, type SignedEnvelope, type Signer } from '../../lib/signing.ts';

/** The `msg_type` of a signed task request. */
export const TASK_MSG_TYPE = 'task';

/** The largest frame the node reads: a 64 KiB task request plus its envelope header. */
export const MAX_SIGNED_FRAME_BYTES = 64 * 1024 + 1024;

/** A task request as the bytes the envelope signs (week 6's payload, without the frame's length prefix). */
export function taskPayload(request: TaskRequest): Uint8Array {
  return encodeTaskRequest(request).subarray(4);
}

/** One signed message in a frame, ready for the socket. Tests and drills pass altered headers as plain records. */
export function signedTaskFrame(envelope: SignedEnvelope | Readonly<Record<string, unknown>>, payload: Uint8Array): Uint8Array {
  return encodeFrame(encodeSignedMessage(envelope, payload), MAX_SIGNED_FRAME_BYTES);
}

/** A signed task request: its envelope, the payload the envelope signs, and the frame. */
export interface SignedTask {
  /** The envelope. */
  readonly envelope: SignedEnvelope;
  /** The task request bytes. */
  readonly payload: Uint8Array;
  /** The framed signed message. */
  readonly frame: Uint8Array;
}

/** Signs a task request with `signer` (msg_type `task`, the task's request id). */
export async function signTask(request: TaskRequest, signer: Signer, options: { readonly clock: Clock }): Promise<SignedTask> {
  const payload = taskPayload(request);
  const envelope = await signEnvelope({ msgType: TASK_MSG_TYPE, requestId: request.requestId, payload }, signer, options);
  return { envelope, payload, frame: signedTaskFrame(envelope, payload) };
}

/** Reads the request id out of a header that did not verify, for the error answer only; `none` when absent. */
export function claimedRequestId(message: Uint8Array): string {
  const head = new TextDecoder().decode(message.subarray(0, 1024));
  return /"request_id":"([A-Za-z0-9][A-Za-z0-9._:-]{0,127})"/.exec(head)?.[1] ?? 'none';
}

// #region signed-gate
/**
 * The request gate of the signed node. Per frame, on the main thread (which owns the
 * nonce cache): week 8's cheap checks in order (shape, version, signed at all, key
 * known, time window, key validity, nonce unseen, payload hash) and `msg_type`. A frame
 * that fails one is answered with its code at once, before admission, and costs no
 * curve math. A frame that passes returns `authorize`, which the overload controller
 * runs only once the ladder has admitted the request: the Ed25519 verification, then
 * the nonce record (only after the signature verified, so a forgery cannot burn a
 * genuine message's nonce).
 */
export function signedTaskGate(verifier: EnvelopeVerifier): RequestGate {
  return {
    tryOpen(frame: Uint8Array): GateVerdict {
      try {
        const checked = verifier.precheck(frame);
        const { envelope } = checked;
        if (envelope.msg_type !== TASK_MSG_TYPE) {
          return { ok: false, requestId: envelope.request_id, errorCode: 'E_ENVELOPE_MALFORMED', message: `Cannot run message: msg_type ${envelope.msg_type} is not ${TASK_MSG_TYPE}` };
        }
        return {
          ok: true, requestId: envelope.request_id, payload: checked.payload,
          authorize: async () => {
            await verifier.complete(checked);
          },
        };
      } catch (error) {
        const errorCode = isCivicError(error) ? error.code : 'E_ENVELOPE_MALFORMED';
        return { ok: false, requestId: claimedRequestId(frame), errorCode, message: error instanceof Error ? error.message : String(error) };
      }
    },
  };
}
// #endregion signed-gate
