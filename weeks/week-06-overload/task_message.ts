/**
 * The task protocol of the overload server: week 2's frame layer and message layout
 * (a JSON header line, a newline, raw body bytes), with a header that says what work to
 * do, how urgent it is and how long the client will wait.
 *
 * ```
 * {"v":1,"type":"task","request_id":"r7","task":"sha256","arg":64,"priority":"high","timeout_ms":500}\n<body>
 * {"v":1,"type":"task_reply","request_id":"r7"}\n<result bytes>
 * {"v":1,"type":"error","request_id":"r7","error_code":"E_OVERLOADED","retry_after_ms":1000}\n<message>
 * ```
 *
 * A refusal carries `retry_after_ms` (the client's pause before a retry, from the
 * threshold table); a deadline drop carries `stage` (where it was noticed).
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { FRAME_ERRORS, encodeFrame, isRequestId } from '../../lib/framing.ts';
import { DEADLINE_STAGES, type DeadlineStage } from './deadline.ts';
import type { Priority } from './ladder.ts';

const fail = errorFactory(FRAME_ERRORS);

/** The work a request may ask for; each runs on a worker thread. */
export const TASK_NAMES = ['sha256', 'spin', 'fill'] as const;

/**
 * One of {@link TASK_NAMES}: `sha256` hashes the body `arg` times over (CPU work of a
 * size the client picks); `spin` keeps a worker busy for `arg` ms (a stand-in for a
 * heavy task such as a signature check); `fill` returns `arg` bytes (a large reply).
 */
export type TaskName = (typeof TASK_NAMES)[number];

/** The largest `arg` accepted: 16 Mi (rounds, ms or bytes). */
export const MAX_TASK_ARG = 16 * 1024 * 1024;

/** The largest `timeout_ms` accepted: one hour. */
export const MAX_TIMEOUT_MS = 3_600_000;

/** A request for work. */
export interface TaskRequest {
  /** The request's id, echoed by its reply. */
  readonly requestId: string;
  /** What to run. */
  readonly task: TaskName;
  /** The task's size: rounds for `sha256`, ms for `spin`, bytes for `fill`. */
  readonly arg: number;
  /** How urgent: under `shed` only `high` is admitted. */
  readonly priority: Priority;
  /** How long the client will wait for the answer, from the request's first byte (ms). */
  readonly timeoutMs: number;
  /** The task's input bytes (hashed by `sha256`). */
  readonly body: Uint8Array;
}

/** A message the server sends back. */
export type TaskAnswer =
  | {
    /** The work is done; `body` is its result. */
    readonly type: 'task_reply';
    /** The request's id. */
    readonly requestId: string;
    /** The result bytes. */
    readonly body: Uint8Array;
  }
  | {
    /** The request failed or was refused. */
    readonly type: 'error';
    /** The request's id, or `none` when it could not be read. */
    readonly requestId: string;
    /** The `E_*` code. */
    readonly errorCode: string;
    /** For a refusal: how long to wait before retrying (ms). */
    readonly retryAfterMs?: number;
    /** For a deadline drop: the stage that noticed. */
    readonly stage?: DeadlineStage;
    /** The human message. */
    readonly message: string;
  };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const NEWLINE = 0x0a;
const MAX_HEADER_BYTES = 1024;
const ERROR_CODE = /^E_[A-Z0-9_]{1,64}$/;

/** Header line, newline and body, framed. */
function frame(header: object, body: Uint8Array, maxFrameBytes: number): Uint8Array {
  const line = encoder.encode(JSON.stringify(header));
  const payload = new Uint8Array(line.length + 1 + body.length);
  payload.set(line, 0);
  payload[line.length] = NEWLINE;
  payload.set(body, line.length + 1);
  return encodeFrame(payload, maxFrameBytes);
}

/**
 * Frames a task request.
 * @throws TypeError for a request that {@link parseTaskRequest} would refuse
 * @throws {@link CivicError} `E_FRAME_OVERSIZE` when the frame would exceed `maxFrameBytes`
 */
export function encodeTaskRequest(request: TaskRequest, maxFrameBytes?: number): Uint8Array {
  if (!isRequestId(request.requestId)) throw new TypeError(`invalid request id ${JSON.stringify(request.requestId)}`);
  const { requestId, task, arg, priority, timeoutMs } = request;
  return frame({ v: 1, type: 'task', request_id: requestId, task, arg, priority, timeout_ms: timeoutMs }, request.body, maxFrameBytes ?? MAX_TASK_ARG + 4096);
}

/**
 * Frames a server answer.
 * @throws TypeError for a malformed request id or error code
 */
export function encodeTaskAnswer(answer: TaskAnswer, maxFrameBytes?: number): Uint8Array {
  if (answer.requestId !== 'none' && !isRequestId(answer.requestId)) throw new TypeError(`invalid request id ${JSON.stringify(answer.requestId)}`);
  if (answer.type === 'task_reply') {
    return frame({ v: 1, type: 'task_reply', request_id: answer.requestId }, answer.body, maxFrameBytes ?? MAX_TASK_ARG + 4096);
  }
  if (!ERROR_CODE.test(answer.errorCode)) throw new TypeError(`invalid error code ${JSON.stringify(answer.errorCode)}`);
  const header = {
    v: 1, type: 'error', request_id: answer.requestId, error_code: answer.errorCode,
    ...(answer.retryAfterMs === undefined ? {} : { retry_after_ms: answer.retryAfterMs }),
    ...(answer.stage === undefined ? {} : { stage: answer.stage }),
  };
  // An error answer is small; the message is cut so it always fits.
  return frame(header, encoder.encode(answer.message.slice(0, 512)), MAX_TASK_ARG + 4096);
}

/** Splits a payload into its parsed header object and its body. */
function split(payload: Uint8Array): { header: Record<string, unknown>; body: Uint8Array } {
  const newline = payload.subarray(0, MAX_HEADER_BYTES + 1).indexOf(NEWLINE);
  if (newline === -1) throw malformed(`no header line within the first ${MAX_HEADER_BYTES + 1} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(payload.subarray(0, newline)));
  } catch {
    throw malformed('the header line is not UTF-8 JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw malformed('the header is not a JSON object');
  return { header: header as Record<string, unknown>, body: payload.subarray(newline + 1) };
}

function malformed(why: string) {
  return fail('E_MESSAGE_MALFORMED', `Cannot parse task message: ${why}`);
}

/** A whole number in `[min, max]`, or a malformed-message error naming the field. */
function wholeField(header: Record<string, unknown>, name: string, min: number, max: number): number {
  const value = header[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw malformed(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

// #region parse-task-request
/**
 * Parses one frame payload as a task request. The body is a view into `payload`.
 * @returns the request
 * @throws {@link CivicError} `E_MESSAGE_MALFORMED` saying what is wrong; the error's
 *   `requestId` guess is not given, so the server answers such a frame with `none`
 */
export function parseTaskRequest(payload: Uint8Array): TaskRequest {
  const { header, body } = split(payload);
  const known = new Set(['v', 'type', 'request_id', 'task', 'arg', 'priority', 'timeout_ms']);
  for (const name of Object.keys(header)) if (!known.has(name)) throw malformed(`unknown header field ${JSON.stringify(name)}`);
  if (header.v !== 1) throw malformed(`version must be 1, got ${JSON.stringify(header.v)}`);
  if (header.type !== 'task') throw malformed(`type must be "task", got ${JSON.stringify(header.type)}`);
  const requestId = header.request_id;
  if (typeof requestId !== 'string' || !isRequestId(requestId)) throw malformed(`request_id is not a valid id: ${JSON.stringify(requestId)}`);
  const task = header.task;
  if (!TASK_NAMES.includes(task as TaskName)) throw malformed(`task must be one of ${TASK_NAMES.join(', ')}, got ${JSON.stringify(task)}`);
  const priority = header.priority ?? 'low';
  if (priority !== 'high' && priority !== 'low') throw malformed(`priority must be "high" or "low", got ${JSON.stringify(priority)}`);
  return {
    requestId,
    task: task as TaskName,
    arg: wholeField(header, 'arg', task === 'sha256' ? 1 : 0, MAX_TASK_ARG),
    priority,
    timeoutMs: wholeField(header, 'timeout_ms', 0, MAX_TIMEOUT_MS),
    body,
  };
}
// #endregion parse-task-request

/**
 * Parses one frame payload as a server answer (the client side of the protocol).
 * @throws {@link CivicError} `E_MESSAGE_MALFORMED` saying what is wrong
 */
export function parseTaskAnswer(payload: Uint8Array): TaskAnswer {
  const { header, body } = split(payload);
  const requestId = header.request_id;
  if (typeof requestId !== 'string' || (requestId !== 'none' && !isRequestId(requestId))) throw malformed(`request_id is not a valid id: ${JSON.stringify(requestId)}`);
  if (header.v !== 1) throw malformed(`version must be 1, got ${JSON.stringify(header.v)}`);
  if (header.type === 'task_reply') return { type: 'task_reply', requestId, body };
  if (header.type !== 'error') throw malformed(`type must be "task_reply" or "error", got ${JSON.stringify(header.type)}`);
  const errorCode = header.error_code;
  if (typeof errorCode !== 'string' || !ERROR_CODE.test(errorCode)) throw malformed(`error_code is not an E_* code: ${JSON.stringify(errorCode)}`);
  const stage = header.stage;
  if (stage !== undefined && !DEADLINE_STAGES.includes(stage as DeadlineStage)) throw malformed(`stage is not a stage: ${JSON.stringify(stage)}`);
  let message: string;
  try {
    message = decoder.decode(body);
  } catch {
    throw malformed('the error message is not UTF-8');
  }
  return {
    type: 'error', requestId, errorCode, message,
    ...(header.retry_after_ms === undefined ? {} : { retryAfterMs: wholeField(header, 'retry_after_ms', 0, MAX_TIMEOUT_MS) }),
    ...(stage === undefined ? {} : { stage: stage as DeadlineStage }),
  };
}
