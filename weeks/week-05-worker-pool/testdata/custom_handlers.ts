/**
 * A handler module written in TypeScript that imports a `lib/` barrel: proof that a
 * worker thread loads `.ts` handlers and their imports under any parent (tsx, vitest, CLI).
 * @module
 */
import { CivicError } from '../../../lib/errors.ts';

/** Test handlers. */
export const handlers = {
  /** Adds one. */
  inc: (n: number): number => n + 1,
  /** Throws a CivicError subclass instance with a code. */
  refuse: (): never => {
    throw new CivicError('E_TASK_BAD_INPUT', 'Cannot use input: it is refused on purpose', { definite: true });
  },
};
