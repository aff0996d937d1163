/**
 * How a `--file` argument becomes the log file the CLI opens: the naming rules of the
 * record log. Pure (no I/O, POSIX paths), so each rule is tested without a disk.
 * @module
 */
import { errorFactory } from './errors.ts';
import { LOG_ERRORS } from './catalog.ts';
import { checkPathSyntax } from './fs_errors.ts';

const fail = errorFactory(LOG_ERRORS);

/** The suffix `log repair` gives the file that keeps a log's torn bytes: `events.log` → `events.log.torn`. */
export const TORN_SUFFIX = '.torn';

/** A log path as given, as resolved, and the name of its repair quarantine. */
export interface LogPath {
  /** The path exactly as the caller gave it. */
  readonly given: string;
  /** Absolute, with empty, `.` and `..` components folded away. */
  readonly absolute: string;
  /** Where `log repair` keeps the torn bytes of this log: `absolute` + {@link TORN_SUFFIX}. */
  readonly quarantine: string;
  /** How messages name the log: `given`, followed by `(absolute)` when the two differ. */
  readonly label: string;
}

// #region resolve-log-path
/**
 * Resolves a log path against a working directory and checks the naming rules before
 * the operating system sees it. `..` is folded by spelling, as `path.resolve` and the
 * shell's `cd` do: `link/../x.log` means `./x.log` even when `link` is a symbolic link.
 * @param given - the `--file` argument
 * @param cwd - the absolute directory a relative path is resolved against
 * @throws {@link CivicError} `E_PATH_INVALID` for an empty path, a NUL byte or a name
 *   ending in `.torn` (that name belongs to another log's quarantine);
 *   `E_PATH_IS_DIR` for a path spelled as a directory (`/`, a trailing `/`, `.` or `..`)
 */
export function resolveLogPath(given: string, cwd: string): LogPath {
  checkPathSyntax(given);
  const last = given.split('/').at(-1) as string;
  if (last === '' || last === '.' || last === '..') {
    throw fail('E_PATH_IS_DIR', `Cannot use ${given} as a log: the path names a directory`);
  }
  if (last.endsWith(TORN_SUFFIX)) {
    throw fail('E_PATH_INVALID', `Cannot use ${given} as a log: a name ending in ${TORN_SUFFIX} is where \`log repair\` keeps another log's torn bytes`);
  }
  const parts: string[] = [];
  for (const part of `${given.startsWith('/') ? '' : cwd}/${given}`.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '' && part !== '.') parts.push(part);
  }
  const absolute = `/${parts.join('/')}`;
  return { given, absolute, quarantine: absolute + TORN_SUFFIX, label: given === absolute ? given : `${given} (${absolute})` };
}
// #endregion resolve-log-path
