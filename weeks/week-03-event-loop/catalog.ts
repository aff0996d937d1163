/**
 * Week 3's error catalog: the ways a multi-client server turns a connection away or
 * cuts it, each with one stable code. The server's log records, its error replies and
 * the CLI's exit status all read this table.
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

// #region catalog
/**
 * The error codes of the multi-client frame server. A cut connection is indefinite:
 * requests the client sent before the cut may have been answered, or not.
 */
export const SERVER_ERRORS = defineErrors({
  E_SERVER_SLOW_READER: {
    exit: 'unavailable', http: 503, definite: false,
    summary: 'The client left too many reply bytes unread, so the server cut the connection',
    action: 'Read replies as fast as requests are sent, or ask the operator to raise --max-outbound-bytes or --slow-reader-ms',
  },
  E_SERVER_BUSY: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'The server already serves its maximum number of clients and read nothing from this one',
    action: 'Retry after a pause with backoff, or ask the operator to raise --max-clients',
  },
  E_SERVER_HANDLER: {
    exit: 'internal', http: 500, definite: false,
    summary: 'The request handler failed in a way it did not report as a coded error',
    action: 'Report a bug with the request id from the server log',
  },
  E_SERVER_STATE: {
    exit: 'internal', http: 500, definite: false,
    summary: 'The connection state machine refused an event the Node adapter fed it',
    action: 'Report a bug with the connection id and the refused event from the server log',
  },
});
// #endregion catalog

/** A code from week 3's catalog. */
export type ServerErrorCode = keyof typeof SERVER_ERRORS;
