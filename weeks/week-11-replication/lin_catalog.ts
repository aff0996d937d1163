/**
 * The error codes of the linearizability checker's history parsers and its command.
 *
 * A history file that does not follow its format exits 3 (`data`): the checker refuses
 * to give a verdict on a history it could only partly read.
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

/** The error codes of reading a history for the linearizability checker. */
export const LIN_ERRORS = defineErrors({
  E_LIN_HISTORY_MALFORMED: {
    exit: 'data', http: 400, definite: true,
    summary: 'A line of the history does not follow its format, or does not fit the operation it completes',
    action: 'Fix or regenerate the history; the message names the first bad line',
  },
});

/** Any of the linearizability checker's error codes. */
export type LinErrorCode = keyof typeof LIN_ERRORS;
