/**
 * Week 2's error catalog: how a framed stream, an echo message, a listening socket
 * and a client connection can fail, each with one stable code. The CLI's exit status,
 * the retry rule and the server's log records all read this table.
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

// #region catalog
/**
 * The error codes of the frame codec, the echo message format and the TCP echo
 * server and client. Codes about bytes on the wire are marked indefinite: either
 * side can raise them, sometimes after the peer has already acted.
 */
export const FRAME_ERRORS = defineErrors({
  E_FRAME_OVERSIZE: {
    exit: 'data', http: 413, definite: false,
    summary: 'A frame header announces more bytes than the maximum frame size',
    action: 'Send smaller messages, or raise --max-frame-bytes on both ends',
  },
  E_FRAME_TRUNCATED: {
    exit: 'unavailable', http: 502, definite: false,
    summary: 'The stream ended inside a frame: a short header or a payload cut off',
    action: 'The peer went away mid-message; reconnect and send the whole message again if it is safe to',
  },
  E_MESSAGE_MALFORMED: {
    exit: 'data', http: 400, definite: false,
    summary: 'A frame payload is not a valid echo message (header line, version, type or request id)',
    action: 'Check that both ends speak the same message format version',
  },
  E_ECHO_MISMATCH: {
    exit: 'integrity', http: 502, definite: false,
    summary: 'The reply does not match the request: another request id or other bytes',
    action: 'Do not trust this server; check what sits between client and server',
  },
  E_NET_ADDR_IN_USE: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'Another socket is already bound to the address and port',
    action: 'Stop the other process, choose another --port, or use --port 0 for a free one',
  },
  E_NET_PERMISSION: {
    exit: 'permission', http: 403, definite: true,
    summary: 'The operating system refused to bind the port (ports below 1024 need privileges)',
    action: 'Use a port of 1024 or above, or grant the process CAP_NET_BIND_SERVICE',
  },
  E_NET_BAD_ADDRESS: {
    exit: 'usage', http: 400, definite: true,
    summary: 'The host does not resolve or is not an address of this machine',
    action: 'Give an address this machine owns, e.g. 127.0.0.1 or 0.0.0.0',
  },
  E_NET_REFUSED: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'Nothing accepted the connection: the request never left the client',
    action: 'Start the server, or check the host and port',
  },
  E_NET_UNREACHABLE: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'No route to the host: the request never left the client',
    action: 'Check the host address and the network between client and server',
  },
  E_NET_CONNECT_TIMEOUT: {
    exit: 'unavailable', http: 504, definite: true,
    summary: 'The connection was not established in time: the request never left the client',
    action: 'Check that the server is up and reachable, or raise --connect-timeout-ms',
  },
  E_NET_RESET: {
    exit: 'unavailable', http: 502, definite: false,
    summary: 'The peer reset the connection: a request in flight may or may not have been processed',
    action: 'Retry only if the request is idempotent; otherwise check its effect first',
  },
  E_NET_CLOSED: {
    exit: 'unavailable', http: 502, definite: false,
    summary: 'The peer closed the connection before replying',
    action: 'Retry only if the request is idempotent; the server may be shutting down',
  },
  E_NET_TIMEOUT: {
    exit: 'unavailable', http: 504, definite: false,
    summary: 'The peer did not finish in time: no reply, or a frame left half sent',
    action: 'Retry only if the request is idempotent, or raise the timeout',
  },
});
// #endregion catalog

/** A code from week 2's catalog. */
export type FrameErrorCode = keyof typeof FRAME_ERRORS;
