/**
 * Stable error codes and the one exit-code table of the `civictrust` CLI.
 *
 * Every failure in CivicTrust is a {@link CivicError} whose `code` comes from a
 * catalog: a typed table that maps the code to an exit status, an HTTP status, a
 * definite/indefinite flag and a line of human text. The CLI, the HTTP layer and the
 * docs all read the same tables, so they cannot disagree.
 * @module
 */

// #region exit-table
/**
 * The exit statuses of the whole CLI, one per kind of outcome. Later weeks add error
 * codes, never exit statuses: each new code maps onto one of these.
 */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** The command ran and the answer is no: nothing matched, or evidence did not verify. */
  negative: 1,
  /** The command line is wrong: fix the arguments (see `--help`). */
  usage: 2,
  /** The input data is invalid: too large, empty, malformed or badly encoded. */
  data: 3,
  /** A named path or object does not exist, or is not the kind of thing expected. */
  notFound: 4,
  /** The operating system refused access: check permissions or the mount. */
  permission: 5,
  /** An I/O operation failed (disk full, device error): the outcome may be unknown. */
  io: 6,
  /** A service is down or overloaded: retry later. */
  unavailable: 7,
  /** Stored or received data failed an integrity check: do not trust it. */
  integrity: 8,
  /** A bug in CivicTrust: please report it with the command that caused it. */
  internal: 70,
} as const;
// #endregion exit-table

/** The name of one row of {@link EXIT}. */
export type ExitName = keyof typeof EXIT;

/** An exit status of the CLI. */
export type ExitCode = (typeof EXIT)[ExitName];

// #region error-spec
/** What the catalog says about one error code. */
export interface ErrorSpec {
  /** The exit status the CLI ends with. */
  readonly exit: ExitName;
  /** The HTTP status a server answers with. */
  readonly http: number;
  /**
   * True when the failed operation certainly had no effect, so a retry cannot
   * duplicate it. When in doubt, false: indefinite is always safe.
   */
  readonly definite: boolean;
  /** One sentence: what went wrong, in the user's terms. */
  readonly summary: string;
  /** One sentence: what to do next. */
  readonly action: string;
}
// #endregion error-spec

/** A catalog of error codes: each key is an `E_*` code. */
export type ErrorCatalog = Readonly<Record<string, ErrorSpec>>;

/**
 * Declares a catalog, keeping its code names as a literal union so that a misspelt
 * code is a compile error wherever the catalog is used.
 * @param specs - the codes and what they mean
 * @returns the same object, frozen, typed as a record from those codes to specs
 */
export function defineErrors<const T extends ErrorCatalog>(specs: T): Readonly<Record<keyof T & string, ErrorSpec>> {
  for (const code of Object.keys(specs)) {
    if (!/^E_[A-Z0-9_]+$/.test(code)) throw new TypeError(`error code must look like E_NAME, got ${code}`);
  }
  return Object.freeze(specs);
}

/**
 * Merges catalogs from several weeks into one, refusing a code defined twice with a
 * different meaning (two weeks may not claim one code).
 * @throws TypeError when two catalogs define the same code differently
 */
export function mergeCatalogs(...catalogs: readonly ErrorCatalog[]): ErrorCatalog {
  const merged: Record<string, ErrorSpec> = {};
  for (const catalog of catalogs) {
    for (const [code, spec] of Object.entries(catalog)) {
      const seen = merged[code];
      if (seen !== undefined && JSON.stringify(seen) !== JSON.stringify(spec)) {
        throw new TypeError(`error code ${code} is defined twice with different meanings`);
      }
      merged[code] = spec;
    }
  }
  return Object.freeze(merged);
}

// #region civic-error
/**
 * The one error class of CivicTrust. Match on `code`, never on the message or on
 * `instanceof` (an error that crossed a worker or process boundary is rebuilt from data).
 */
export class CivicError<C extends string = string> extends Error {
  /** The stable `E_*` code. */
  readonly code: C;
  /** True when the operation certainly had no effect. */
  readonly definite: boolean;

  /**
   * @param code - a code from a catalog
   * @param message - sentence case, action first, a colon before the detail
   * @param options - `definite` (from the catalog) and an optional `cause`
   */
  constructor(code: C, message: string, options: { definite: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CivicError';
    this.code = code;
    this.definite = options.definite;
  }
}
// #endregion civic-error

// #region is-civic-error
/** What a catalog code looks like; Node's own codes (`ENOENT`, `ERR_SOCKET_BAD_PORT`) never do. */
const CODE_FORM = /^E_[A-Z0-9_]+$/;

/**
 * True when `value` is a CivicError: an Error whose `code` has the catalog form
 * `E_NAME` and which says whether it is `definite`. Given a catalog, the code must
 * also be one of its codes. A raw Node error (`ENOENT`, `ECONNREFUSED`) is not one,
 * although it has a string `code`: it must be mapped to a catalog code first.
 * @param value - anything that was thrown
 * @param catalog - when given, the code must be defined there
 */
export function isCivicError(value: unknown, catalog?: ErrorCatalog): value is CivicError {
  if (!(value instanceof Error)) return false;
  const { code, definite } = value as { code?: unknown; definite?: unknown };
  if (typeof code !== 'string' || !CODE_FORM.test(code) || typeof definite !== 'boolean') return false;
  return catalog === undefined || Object.hasOwn(catalog, code);
}
// #endregion is-civic-error

/**
 * Returns a function that builds {@link CivicError}s for one catalog, taking
 * `definite` from the catalog so call sites cannot contradict it.
 * @example
 * const fail = errorFactory(LOG_ERRORS);
 * throw fail('E_RECORD_EMPTY', 'Cannot append record: the message is empty');
 */
export function errorFactory<T extends ErrorCatalog>(catalog: T) {
  return function fail<C extends keyof T & string>(code: C, message: string, cause?: unknown): CivicError<C> {
    const spec = catalog[code] as ErrorSpec;
    return new CivicError(code, message, { definite: spec.definite, cause });
  };
}

/**
 * The exit status for an error under a catalog. An error without a known code is a
 * bug: it maps to {@link EXIT}.internal.
 */
export function exitCodeOf(error: unknown, catalog: ErrorCatalog): ExitCode {
  if (!isCivicError(error, catalog)) return EXIT.internal;
  return EXIT[(catalog[error.code] as ErrorSpec).exit];
}

/** Renders an error the way the CLI prints it on stderr: `error[CODE]: message`. */
export function formatError(error: unknown): string {
  if (isCivicError(error)) return `error[${error.code}]: ${error.message}`;
  const detail = error instanceof Error ? error.message : String(error);
  return `error[E_INTERNAL]: Unexpected failure, please report it: ${detail}`;
}
