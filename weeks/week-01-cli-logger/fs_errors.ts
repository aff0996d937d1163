/**
 * Turns operating-system error numbers into catalog codes. Kept apart from the file
 * adapter, and pure, so the mapping can be tested for every errno without a disk.
 * @module
 */
import type { ErrorCatalog } from './errors.ts';
import { CivicError, errorFactory, isCivicError } from './errors.ts';
import { LOG_ERRORS } from './catalog.ts';

const fail = errorFactory(LOG_ERRORS);

// #region errno-map
/** Which catalog code each errno becomes when a path is opened, read, written or created. */
const ERRNO_CODES = {
  ENOENT: ['E_PATH_NOT_FOUND', 'no such file or directory'],
  ENAMETOOLONG: ['E_PATH_INVALID', 'file name too long'],
  ELOOP: ['E_PATH_INVALID', 'too many levels of symbolic links'],
  EACCES: ['E_PATH_PERMISSION', 'permission denied'],
  EPERM: ['E_PATH_PERMISSION', 'operation not permitted'],
  EROFS: ['E_PATH_PERMISSION', 'read-only file system'],
  EISDIR: ['E_PATH_IS_DIR', 'is a directory'],
  ENOTDIR: ['E_PATH_NOT_DIR', 'not a directory'],
  ENOSPC: ['E_IO_NO_SPACE', 'no space left on device'],
  EDQUOT: ['E_IO_NO_SPACE', 'disk quota exceeded'],
} as const;
// #endregion errno-map

/**
 * Wraps an error thrown by a file-system call in a {@link CivicError} with a stable
 * code. Other errnos (`EEXIST`, `EMFILE`, `EIO`…) become `E_IO`, with the errno in the message, which is indefinite: the caller cannot know
 * whether the operation took effect.
 * @param error - what the file-system call threw
 * @param action - what was being done, e.g. `Cannot append to /var/log/x.log`
 */
export function fsError(error: unknown, action: string): CivicError {
  const errno = (error as { code?: unknown } | null)?.code;
  const known = typeof errno === 'string' && errno in ERRNO_CODES ? ERRNO_CODES[errno as keyof typeof ERRNO_CODES] : undefined;
  const detail = known !== undefined ? `${errno as string} (${known[1]})` : typeof errno === 'string' ? errno : String(error);
  return fail(known?.[0] ?? 'E_IO', `${action}: ${detail}`, error);
}

/**
 * Checks a path given on the command line before the OS sees it.
 * @throws {@link CivicError} `E_PATH_INVALID` for an empty path or one containing NUL
 */
export function checkPathSyntax(path: string): void {
  if (path.length === 0) throw fail('E_PATH_INVALID', 'Cannot use path: it is empty');
  if (path.includes('\0')) throw fail('E_PATH_INVALID', 'Cannot use path: it contains a NUL byte');
}

// #region os-error
/**
 * The catalog code of each errno a socket call reports, in the catalog of week 2,
 * which owns the network codes. A CLI that has not loaded that catalog reports the
 * errno as `E_IO` instead: still a catalog code, never the raw errno.
 */
const NET_ERRNO_CODES: Readonly<Record<string, readonly [string, string]>> = {
  ECONNREFUSED: ['E_NET_REFUSED', 'connection refused'],
  EADDRINUSE: ['E_NET_ADDR_IN_USE', 'address already in use'],
  EADDRNOTAVAIL: ['E_NET_BAD_ADDRESS', 'address not available on this machine'],
  ENOTFOUND: ['E_NET_BAD_ADDRESS', 'host not found'],
  EAI_AGAIN: ['E_NET_BAD_ADDRESS', 'host name lookup failed, try again'],
  EHOSTUNREACH: ['E_NET_UNREACHABLE', 'no route to host'],
  ENETUNREACH: ['E_NET_UNREACHABLE', 'network unreachable'],
  ETIMEDOUT: ['E_NET_CONNECT_TIMEOUT', 'timed out'],
  ECONNRESET: ['E_NET_RESET', 'connection reset by peer'],
  EPIPE: ['E_NET_RESET', 'broken pipe'],
};

/** Plain words for the system calls an errno names. */
const SYSCALL_WORDS: Readonly<Record<string, string>> = {
  scandir: 'read directory', opendir: 'read directory', open: 'open', read: 'read', write: 'write', stat: 'stat', lstat: 'stat',
  mkdir: 'create directory', rmdir: 'remove directory', unlink: 'remove', rename: 'rename', access: 'access', fsync: 'fsync',
  connect: 'connect to', listen: 'listen on', bind: 'bind', getaddrinfo: 'resolve',
};

/** The socket calls whose EACCES means "not allowed to bind this port", not a file permission. */
const SOCKET_CALLS: ReadonlySet<string> = new Set(['listen', 'bind', 'connect', 'getaddrinfo', 'write', 'read']);

/**
 * Turns anything a command threw into a CivicError whose code is in `catalog`, so
 * that only catalog codes reach the user. A CivicError of the catalog passes through;
 * an operating-system error (a Node error with an errno `code` such as `ENOENT` or
 * `ECONNREFUSED`) becomes the catalog code for that errno, with the path or address
 * it concerned in the message; `EMFILE`, `EIO` and other errnos become `E_IO`.
 * Anything else (a `TypeError`, an `ERR_*` code) is returned unchanged: it is a bug,
 * which the CLI reports as `E_INTERNAL`.
 * @param error - what a command threw
 * @param catalog - the codes the CLI can report
 * @returns a CivicError of the catalog, or `error` itself when it is not an OS error
 */
export function osError(error: unknown, catalog: ErrorCatalog): unknown {
  if (isCivicError(error, catalog)) return error;
  const raw = error as { code?: unknown; syscall?: unknown; path?: unknown; dest?: unknown; address?: unknown; port?: unknown; hostname?: unknown } | null;
  const errno = raw?.code;
  if (!(error instanceof Error) || typeof errno !== 'string' || !/^E[A-Z0-9]+$/.test(errno) || errno.startsWith('E_')) return error;
  const syscall = typeof raw?.syscall === 'string' ? raw.syscall : 'use';
  const verb = SYSCALL_WORDS[syscall] ?? syscall;
  const address = typeof raw?.address === 'string' ? `${raw.address}${typeof raw.port === 'number' ? `:${raw.port}` : ''}` : typeof raw?.hostname === 'string' ? raw.hostname : undefined;
  const net = NET_ERRNO_CODES[errno] ?? (errno === 'EACCES' && SOCKET_CALLS.has(syscall) && address !== undefined ? ['E_NET_PERMISSION', 'permission denied'] as const : undefined);
  if (net !== undefined) {
    const [code, text] = net;
    const known = Object.hasOwn(catalog, code) ? code : 'E_IO';
    const spec = catalog[known];
    return new CivicError(known, `Cannot ${verb} ${address ?? 'the socket'}: ${errno} (${text})`, { definite: spec?.definite ?? false, cause: error });
  }
  const path = typeof raw?.path === 'string' ? raw.path : undefined;
  const target = path === undefined ? 'a file' : typeof raw?.dest === 'string' ? `${path} -> ${raw.dest}` : path;
  return fsError(error, `Cannot ${verb} ${target}`);
}
// #endregion os-error
