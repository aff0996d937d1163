/**
 * Socket errors, translated. Node reports a failed `listen` or `connect` with the
 * kernel's errno name (`EADDRINUSE`, `ECONNREFUSED`, …); this module turns each into
 * a catalog code whose `definite` flag says whether the request could have reached
 * the peer. Pure: it reads only the error's `code` string.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { FRAME_ERRORS, type FrameErrorCode } from './catalog.ts';

const fail = errorFactory(FRAME_ERRORS);

/** A host and port, as given or as bound. */
export interface NetAddress {
  /** Host name or IP address. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
}

/** Renders an address as `host:port`, bracketing IPv6 literals: `[::1]:7000`. */
export function formatAddress(address: NetAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** The errno name of a Node system error, if it has one. */
function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

// #region listen-errors
/** Why `listen` fails, by errno. */
const LISTEN: Readonly<Record<string, FrameErrorCode>> = {
  EADDRINUSE: 'E_NET_ADDR_IN_USE',
  EACCES: 'E_NET_PERMISSION',
  EPERM: 'E_NET_PERMISSION',
  EADDRNOTAVAIL: 'E_NET_BAD_ADDRESS', // an address this machine does not own
  ENOTFOUND: 'E_NET_BAD_ADDRESS', //     a name that does not resolve
  EAI_NONAME: 'E_NET_BAD_ADDRESS',
  EAI_AGAIN: 'E_NET_BAD_ADDRESS',
  EAFNOSUPPORT: 'E_NET_BAD_ADDRESS',
  EINVAL: 'E_NET_BAD_ADDRESS',
};
// #endregion listen-errors

/**
 * Translates a failed `listen`.
 * @param error - what Node raised
 * @param address - the address asked for
 * @returns a coded error, or `error` itself when the errno is not one we expect (a bug to report)
 */
export function listenError(error: unknown, address: NetAddress): unknown {
  const errno = errnoOf(error);
  const code = errno === undefined ? undefined : LISTEN[errno];
  if (code === undefined) return error;
  return fail(code, `Cannot listen on ${formatAddress(address)}: ${errno}`, error);
}

// #region connect-errors
/** Why `connect`, or a connected socket, fails, by errno. */
const CONNECT: Readonly<Record<string, FrameErrorCode>> = {
  ECONNREFUSED: 'E_NET_REFUSED', //       definite: no one accepted, nothing was sent
  EHOSTUNREACH: 'E_NET_UNREACHABLE', //   definite
  ENETUNREACH: 'E_NET_UNREACHABLE',
  EHOSTDOWN: 'E_NET_UNREACHABLE',
  ENETDOWN: 'E_NET_UNREACHABLE',
  EAI_AGAIN: 'E_NET_UNREACHABLE',
  ENOTFOUND: 'E_NET_BAD_ADDRESS',
  EAI_NONAME: 'E_NET_BAD_ADDRESS',
  EADDRNOTAVAIL: 'E_NET_BAD_ADDRESS',
  EINVAL: 'E_NET_BAD_ADDRESS',
  ECONNRESET: 'E_NET_RESET', //           indefinite: the request may have arrived
  EPIPE: 'E_NET_RESET',
  ECONNABORTED: 'E_NET_RESET',
  ETIMEDOUT: 'E_NET_TIMEOUT',
};
// #endregion connect-errors

/**
 * Translates a failed `connect` or a failure on a connected socket.
 * @param error - what Node raised
 * @param address - the peer's address
 * @param phase - `connect` while connecting; `io` once connected (a kernel ETIMEDOUT
 *   while connecting means nothing was sent, afterwards it may have been)
 * @returns a coded error, or `error` itself for an unexpected errno
 */
export function connectError(error: unknown, address: NetAddress, phase: 'connect' | 'io'): unknown {
  const errno = errnoOf(error);
  let code = errno === undefined ? undefined : CONNECT[errno];
  if (code === 'E_NET_TIMEOUT' && phase === 'connect') code = 'E_NET_CONNECT_TIMEOUT';
  if (code === undefined) return error;
  const what = phase === 'connect' ? 'connect to' : 'talk to';
  return fail(code, `Cannot ${what} ${formatAddress(address)}: ${errno}`, error);
}
