/**
 * Turns operating-system error numbers into catalog codes. Kept apart from the file
 * adapter, and pure, so the mapping can be tested for every errno without a disk.
 * @module
 */
import type { CivicError } from './errors.ts';
import { errorFactory } from './errors.ts';
import { LOG_ERRORS } from './catalog.ts';

const fail = errorFactory(LOG_ERRORS);

// #region errno-map
/** Which catalog code each errno becomes when a log path is opened, read or written. */
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
 * code. Unknown errnos become `E_IO`, which is indefinite: the caller cannot know
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
