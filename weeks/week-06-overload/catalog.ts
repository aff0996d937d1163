/**
 * Week 6's error catalog: the ways an overloaded server says no, drops work whose time
 * is up, or cuts a client that sends or reads too slowly. Each refusal carries a stable
 * code; the overload codes are definite (the server did none of the work), so a client
 * may retry them safely once the hinted pause has passed.
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

// #region catalog
/** The error codes of overload control, deadlines and slow-client defence. */
export const OVERLOAD_ERRORS = defineErrors({
  E_OVERLOADED: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'The server is past its reject threshold and refused the request before doing any of it',
    action: 'Wait for the retry_after_ms the reply names (add jitter), then retry; never retry at once in a loop',
  },
  E_SHED_LOW_PRIORITY: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'The server is shedding load and refused a low-priority request before doing any of it',
    action: 'Retry after the retry_after_ms the reply names, or mark the request high priority if it truly is',
  },
  E_CLIENT_THROTTLED: {
    exit: 'unavailable', http: 429, definite: true,
    summary: 'This connection sent requests faster than its per-client rate, so the server refused one before doing any of it',
    action: 'Slow down: wait the retry_after_ms the reply names before the next request, or spread the work over time',
  },
  E_DEADLINE_EXCEEDED: {
    exit: 'unavailable', http: 504, definite: false,
    summary: 'The request ran out of time before the server could answer it, so the server dropped it',
    action: 'Send a fresh request with a larger timeout_ms or less work; the dropped one may or may not have run',
  },
  E_SLOW_CLIENT: {
    exit: 'unavailable', http: 408, definite: false,
    summary: 'The client sent a frame, or read its replies, too slowly, so the server cut the connection',
    action: 'Send each frame at a steady rate and read replies as they arrive, or ask the operator to relax --min-progress-bytes or --no-drain-ms',
  },
});
// #endregion catalog

/** A code from week 6's catalog. */
export type OverloadErrorCode = keyof typeof OVERLOAD_ERRORS;
