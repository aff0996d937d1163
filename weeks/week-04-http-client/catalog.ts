/**
 * Week 4's error catalog: every way an HTTP exchange can fail, each with one stable
 * code, an exit status, and a second verdict the week-1 catalog has no column for:
 * whether trying again later could succeed ({@link HTTP_TRANSIENT}).
 *
 * How the exit statuses were chosen:
 *
 * - a response whose bytes break the HTTP/1.1 grammar exits 8 (`integrity`): the
 *   bytes came from the network, not from the user, and the right reaction is to
 *   distrust them, not to edit the command line;
 * - a response that is well formed but larger than a limit exits 3 (`data`): the
 *   user can act on it by raising the limit, which is what status 3 says;
 * - failures of the network path (refused, unreachable, timed out, cut short) exit
 *   7 (`unavailable`): retry later;
 * - a URL, address or request id that can never work exits 2 (`usage`).
 * @module
 */
import { CivicError, defineErrors } from '../../lib/errors.ts';

// #region catalog
/** The error codes of the HTTP response parser and the HTTP client. */
export const HTTP_ERRORS = defineErrors({
  E_HTTP_BAD_STATUS_LINE: {
    exit: 'integrity', http: 502, definite: false,
    summary: 'The response does not start with a valid HTTP/1.x status line',
    action: 'Check that the URL points at an HTTP/1.1 server, not TLS or another protocol',
  },
  E_HTTP_BAD_HEADER: {
    exit: 'integrity', http: 502, definite: false,
    summary: 'A header line of the response breaks the HTTP/1.1 field syntax',
    action: 'Fix the server that sent it; the client refuses to guess what a malformed header meant',
  },
  E_HTTP_HEADER_TOO_LARGE: {
    exit: 'data', http: 502, definite: false,
    summary: 'The status line, a header line, the header count or the header section exceeds its limit',
    action: 'Check what the server sends; the limits are in DEFAULT_HTTP_LIMITS',
  },
  E_HTTP_BAD_CHUNK: {
    exit: 'integrity', http: 502, definite: false,
    summary: 'The chunked body is malformed: a bad chunk size, extension or line end',
    action: 'Fix the server that sent it; a broken chunk stream cannot be resynchronised',
  },
  E_HTTP_CONFLICTING_LENGTH: {
    exit: 'integrity', http: 502, definite: false,
    summary: 'The response states its body length in two ways that disagree (a request-smuggling sign)',
    action: 'Do not trust this server or the proxy in front of it until the framing is fixed',
  },
  E_HTTP_BODY_TOO_LARGE: {
    exit: 'data', http: 502, definite: false,
    summary: 'The response body is larger than the body limit',
    action: 'Raise --max-body-bytes if the size is expected',
  },
  E_HTTP_TRUNCATED: {
    exit: 'unavailable', http: 502, definite: false,
    summary: 'The connection ended before the response was complete',
    action: 'Retry later; the server may or may not have acted on the request',
  },
  E_HTTP_BAD_URL: {
    exit: 'usage', http: 400, definite: true,
    summary: 'The URL is not a valid http:// URL',
    action: 'Give a URL such as http://127.0.0.1:8080/healthz',
  },
  E_HTTP_BAD_ADDRESS: {
    exit: 'usage', http: 400, definite: true,
    summary: 'The address can never accept a TCP connection (port 0, multicast, broadcast or unspecified)',
    action: 'Use the unicast address and port the server listens on',
  },
  E_HTTP_BAD_REQUEST: {
    exit: 'usage', http: 400, definite: true,
    summary: 'The request cannot be written: a method, header or request id is not valid on the wire',
    action: 'Use visible ASCII for the request id and header values, and a token for names',
  },
  E_HTTP_HOST_NOT_FOUND: {
    exit: 'notFound', http: 502, definite: true,
    summary: 'The host name does not resolve to an address',
    action: 'Check the host name for typos, or use an IP address',
  },
  E_HTTP_CONNECT_REFUSED: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'Nothing listens on that port: the connection was refused',
    action: 'Start the server, or check the port; retrying later may succeed',
  },
  E_HTTP_UNREACHABLE: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'The network cannot reach the host',
    action: 'Check the network path and retry later',
  },
  E_HTTP_CONNECT_TIMEOUT: {
    exit: 'unavailable', http: 504, definite: true,
    summary: 'The TCP connection was not established within the connect timeout',
    action: 'Retry later, or raise --timeout-connect if the path is slow',
  },
  E_HTTP_READ_TIMEOUT: {
    exit: 'unavailable', http: 504, definite: false,
    summary: 'The server sent nothing for longer than the read timeout',
    action: 'Retry later, or raise --timeout-read; the server may have acted on the request',
  },
  E_HTTP_TOTAL_TIMEOUT: {
    exit: 'unavailable', http: 504, definite: false,
    summary: 'The whole exchange took longer than the total timeout',
    action: 'Retry later, or raise --timeout-total; the server may have acted on the request',
  },
  E_HTTP_CONNECTION_RESET: {
    exit: 'unavailable', http: 502, definite: false,
    summary: 'The connection failed after it was established and before any response byte',
    action: 'Retry later; the server may or may not have acted on the request',
  },
});
// #endregion catalog

/** A code from week 4's catalog. */
export type HttpErrorCode = keyof typeof HTTP_ERRORS;

// #region transient
/**
 * Whether each failure is transient: the same request, sent again later, may
 * succeed. A malformed response is permanent because the same server will most
 * likely send the same bytes again. Retrying is the caller's decision (week 2's
 * retry policy); a retry is only safe when the error is also `definite` or the
 * request is idempotent.
 */
export const HTTP_TRANSIENT: Readonly<Record<HttpErrorCode, boolean>> = {
  E_HTTP_BAD_STATUS_LINE: false,
  E_HTTP_BAD_HEADER: false,
  E_HTTP_HEADER_TOO_LARGE: false,
  E_HTTP_BAD_CHUNK: false,
  E_HTTP_CONFLICTING_LENGTH: false,
  E_HTTP_BODY_TOO_LARGE: false,
  E_HTTP_TRUNCATED: true,
  E_HTTP_BAD_URL: false,
  E_HTTP_BAD_ADDRESS: false,
  E_HTTP_BAD_REQUEST: false,
  E_HTTP_HOST_NOT_FOUND: false,
  E_HTTP_CONNECT_REFUSED: true,
  E_HTTP_UNREACHABLE: true,
  E_HTTP_CONNECT_TIMEOUT: true,
  E_HTTP_READ_TIMEOUT: true,
  E_HTTP_TOTAL_TIMEOUT: true,
  E_HTTP_CONNECTION_RESET: true,
};
// #endregion transient

/**
 * A {@link CivicError} from week 4's catalog that also says whether it is transient.
 * Both verdicts come from the tables, so a call site cannot contradict them.
 */
export class HttpError<C extends HttpErrorCode = HttpErrorCode> extends CivicError<C> {
  /** True when the same request may succeed if sent again later. */
  readonly transient: boolean;

  /**
   * @param code - a code from {@link HTTP_ERRORS}
   * @param message - sentence case, action first, a colon before the detail
   * @param cause - the underlying error, if any
   */
  constructor(code: C, message: string, cause?: unknown) {
    super(code, message, { definite: HTTP_ERRORS[code].definite, cause });
    this.name = 'HttpError';
    this.transient = HTTP_TRANSIENT[code];
  }
}

/**
 * Tells whether an error is a transient HTTP failure, reading its code (so it also
 * works for an error rebuilt from data after crossing a process boundary).
 * @returns false for permanent codes, unknown codes and values that are not errors
 */
export function isTransientHttpError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(HTTP_TRANSIENT, code) && HTTP_TRANSIENT[code as HttpErrorCode];
}

// #region connect-failure
/**
 * Classifies an operating-system error raised while connecting (DNS lookup or TCP
 * handshake, so no request byte has left): the errno decides the code.
 * @param errno - Node's `error.code`, e.g. `ECONNREFUSED`
 * @returns the code; an errno not listed counts as unreachable (transient)
 */
export function connectFailureCode(errno: string | undefined): HttpErrorCode {
  switch (errno) {
    case 'ECONNREFUSED':
      return 'E_HTTP_CONNECT_REFUSED';
    case 'ETIMEDOUT':
      return 'E_HTTP_CONNECT_TIMEOUT';
    case 'ENOTFOUND':
      return 'E_HTTP_HOST_NOT_FOUND';
    case 'EINVAL':
    case 'EADDRNOTAVAIL':
    case 'EAFNOSUPPORT':
    case 'EACCES':
      return 'E_HTTP_BAD_ADDRESS';
    default:
      // EHOSTUNREACH, ENETUNREACH, ENETDOWN, EAI_AGAIN (DNS temporarily failing), ECONNRESET...
      return 'E_HTTP_UNREACHABLE';
  }
}
// #endregion connect-failure
