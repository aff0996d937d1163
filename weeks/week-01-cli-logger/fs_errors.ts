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
  ENOENT: 'E_PATH_NOT_FOUND',
  ENAMETOOLONG: 'E_PATH_INVALID',
  ELOOP: 'E_PATH_INVALID',
  EACCES: 'E_PATH_PERMISSION',
  EPERM: 'E_PATH_PERMISSION',
  EROFS: 'E_PATH_PERMISSION',
  EISDIR: 'E_PATH_IS_DIR',
  ENOTDIR: 'E_PATH_NOT_DIR',
  ENOSPC: 'E_IO_NO_SPACE',
  EDQUOT: 'E_IO_NO_SPACE',
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
  const code = typeof errno === 'string' && errno in ERRNO_CODES ? ERRNO_CODES[errno as keyof typeof ERRNO_CODES] : 'E_IO';
  const detail = typeof errno === 'string' ? errno : error instanceof Error ? error.message : String(error);
  return fail(code, `${action}: ${detail}`, error);
}

/**
 * Checks a path given on the command line before the OS sees it.
 * @throws {@link CivicError} `E_PATH_INVALID` for an empty path or one containing NUL
 */
export function checkPathSyntax(path: string): void {
  if (path.length === 0) throw fail('E_PATH_INVALID', 'Cannot use path: it is empty');
  if (path.includes('\0')) throw fail('E_PATH_INVALID', 'Cannot use path: it contains a NUL byte');
}
