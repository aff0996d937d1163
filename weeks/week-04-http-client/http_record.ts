/**
 * One structured log record per HTTP exchange, in week 1's record format: the
 * request id goes in `request_id`, so the client's line and the server's line for
 * one request can be joined on it; a failure carries its code and whether it is
 * transient.
 * @module
 */
import type { Clock, IdSource } from '../../lib/clock.ts';
import type { FieldValue, LogRecord } from '../../lib/logger.ts';

/** What happened to one request. */
export interface HttpOutcome {
  /** The request id that was sent. */
  readonly requestId: string;
  /** The method. */
  readonly method: string;
  /** The URL. */
  readonly url: string;
  /** Milliseconds from start to outcome. */
  readonly latencyMs: number;
  /** The status code of a complete response. */
  readonly status?: number;
  /** The body size of a complete response. */
  readonly bodyBytes?: number;
  /** The failure, when there was one: its code, message and verdicts. */
  readonly error?: {
    /** The `E_*` code. */
    readonly code: string;
    /** The message: the reason, with the request it belongs to. */
    readonly message: string;
    /** True when the same request may succeed later. */
    readonly transient: boolean;
    /** True when the request certainly had no effect. */
    readonly definite: boolean;
  };
}

// #region outcome-record
/**
 * Builds the log record of one exchange: level `info` and `result=ok` for a complete
 * response, level `error`, `result=error` and the error code for a failure, whose
 * message (the reason) becomes the record's `msg`.
 */
export function httpOutcomeRecord(outcome: HttpOutcome, env: { readonly clock: Clock; readonly ids: IdSource }): LogRecord {
  const fields: Record<string, FieldValue> = {
    method: outcome.method,
    url: outcome.url,
    latency_ms: Math.round(outcome.latencyMs),
    result: outcome.error === undefined ? 'ok' : 'error',
  };
  if (outcome.status !== undefined) fields.status = outcome.status;
  if (outcome.bodyBytes !== undefined) fields.body_bytes = outcome.bodyBytes;
  if (outcome.error !== undefined) {
    fields.error_code = outcome.error.code;
    fields.transient = outcome.error.transient;
    fields.definite = outcome.error.definite;
  }
  return {
    ts: new Date(env.clock.now()).toISOString(),
    id: env.ids.next(),
    level: outcome.error === undefined ? 'info' : 'error',
    msg: outcome.error?.message ?? `http ${outcome.method.toLowerCase()} ${outcome.status ?? ''}`.trim(),
    request_id: outcome.requestId,
    fields,
  };
}
// #endregion outcome-record
