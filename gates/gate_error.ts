/**
 * The gate runner's own error codes. The runner must work before week 1 (and its error
 * catalog) exists, so it keeps a small catalog of its own with the same shape: a stable
 * code, a process exit code, and a message printed as `error[CODE]: message`.
 * @module
 */

/** Exit code and meaning of every failure the gate runner reports as an error. */
export const GATE_ERRORS = {
  /** The week argument is not 1-24, `week-N` or `all`. */
  E_GATE_UNKNOWN_WEEK: { exit: 2 },
  /** The command line is malformed: unknown flag, missing or extra argument. */
  E_GATE_USAGE: { exit: 2 },
  /** The week is in the table but its folder or `gate.test.ts` does not exist yet. */
  E_GATE_NOT_BUILT: { exit: 1 },
  /** Two folders under `weeks/` claim the same week number. */
  E_GATE_DUPLICATE_WEEK: { exit: 2 },
  /** Vitest's JSON report is missing or does not have the expected shape. */
  E_GATE_REPORT_INVALID: { exit: 1 },
} as const;

/** One of the gate runner's stable error codes. */
export type GateErrorCode = keyof typeof GATE_ERRORS;

/** A gate runner failure with a stable code; match on `code`, never on the message. */
export class GateError extends Error {
  /** The stable code, also printed in `error[CODE]: …`. */
  readonly code: GateErrorCode;

  /**
   * @param code - the stable code
   * @param message - sentence case, action first, colon before the detail
   */
  constructor(code: GateErrorCode, message: string) {
    super(message);
    this.name = 'GateError';
    this.code = code;
  }

  /** The process exit code the catalog assigns to this error's code. */
  get exitCode(): number {
    return GATE_ERRORS[this.code].exit;
  }
}

/** Formats an error as the one-line `error[CODE]: message` the CLI prints on stderr. */
export function formatGateError(error: GateError): string {
  return `error[${error.code}]: ${error.message}`;
}
