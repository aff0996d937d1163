/**
 * The KV wire protocol, one frame each way (week 2's length prefix):
 *
 * - a **signed** request is week 8's signed message (envelope header line, newline,
 *   payload) with `msg_type` `kv`, whose payload is the canonical bytes of a KV command
 *   and whose `request_id` equals the command's;
 * - an **unsigned** request is the canonical bytes of a command alone (no newline: JCS
 *   escapes every newline inside strings). Only `get` may come unsigned: reads change
 *   nothing, and the signature's job here is to decide who may change state;
 * - the **answer** is the canonical bytes of a {@link KvReply}.
 *
 * Nothing reaches the store unless it verified: a put or delete without a valid
 * signature is answered `E_SIG_*` (or `E_REPLAY`, `E_TIMESTAMP_*`, …) and never applied.
 * @module
 */
import { isCivicError } from '../../lib/errors.ts';
import { canonicalBytes, parseStrictJson } from '../../lib/hashing.ts';
import type { EnvelopeVerifier } from '../../lib/signing.ts';
import { isKvCommand, parseKvRequest, type KvReadResult, type KvRequest, type KvResult } from './command.ts';
import type { KvStore } from './store.ts';

/** The envelope `msg_type` of a signed KV command. */
export const KV_MSG_TYPE = 'kv';
/** The largest frame the KV server reads: a 32 KiB value, its JSON escaping and an envelope header. */
export const MAX_KV_FRAME_BYTES = 128 * 1024;

/** A refusal before the store: a bad signature, a replay, a malformed frame. Nothing was applied. */
export interface KvRefusal {
  /** False: refused. */
  readonly ok: false;
  /** The request id the frame claimed, or null; never trusted, only echoed. */
  readonly request_id: string | null;
  /** The `E_*` code (`E_SIG_MISSING`, `E_SIG_INVALID`, `E_REPLAY`, `E_KV_COMMAND_INVALID`, …). */
  readonly code: string;
  /** What went wrong. */
  readonly message: string;
}

/** Every answer the KV server sends. */
export type KvReply = KvResult | KvReadResult | KvRefusal;

const NEWLINE = 0x0a;

function refusal(requestId: string | null, error: unknown, fallback: string): KvRefusal {
  return { ok: false, request_id: requestId, code: isCivicError(error) ? error.code : fallback, message: error instanceof Error ? error.message : String(error) };
}

function claimedRequestId(frame: Uint8Array): string | null {
  const head = new TextDecoder().decode(frame.subarray(0, 1024));
  return /"request_id":"([A-Za-z0-9][A-Za-z0-9._:-]{0,127})"/.exec(head)?.[1] ?? null;
}

/** The canonical payload of a KV command, as signed and sent. */
export function kvPayload(request: KvRequest): Uint8Array {
  return canonicalBytes(request);
}

// #region handle-frame
/**
 * Answers one request frame: verify (when signed), parse, then read or apply through
 * the store. Never throws; every failure is a {@link KvRefusal} or a KvFailure.
 */
export async function handleKvFrame(frame: Uint8Array, deps: { readonly verifier: EnvelopeVerifier; readonly store: KvStore }): Promise<KvReply> {
  const signed = frame.includes(NEWLINE);
  let request: KvRequest;
  if (signed) {
    let verified;
    try {
      verified = await deps.verifier.verify(frame); // signature, key, window, nonce, payload hash
    } catch (error) {
      return refusal(claimedRequestId(frame), error, 'E_SIG_INVALID');
    }
    const { envelope, payload } = verified;
    try {
      request = parseKvRequest(parseStrictJson(payload));
    } catch (error) {
      return refusal(envelope.request_id, error, 'E_KV_COMMAND_INVALID');
    }
    if (envelope.msg_type !== KV_MSG_TYPE || (request.request_id !== undefined && request.request_id !== envelope.request_id)) {
      return { ok: false, request_id: envelope.request_id, code: 'E_KV_COMMAND_INVALID', message: `Cannot accept KV command: msg_type must be ${KV_MSG_TYPE} and request_id must equal the envelope's` };
    }
  } else {
    try {
      request = parseKvRequest(parseStrictJson(frame));
    } catch (error) {
      return refusal(claimedRequestId(frame), error, 'E_KV_COMMAND_INVALID');
    }
    if (isKvCommand(request)) {
      // The trust boundary: an unsigned command may read, never write.
      return { ok: false, request_id: request.request_id, code: 'E_SIG_MISSING', message: `Cannot apply ${request.op}: state-changing commands must be signed (week 8 envelope)` };
    }
  }
  if (!isKvCommand(request)) return deps.store.get(request.key);
  return deps.store.apply(request);
}
// #endregion handle-frame
