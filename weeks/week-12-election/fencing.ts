/**
 * A term fence: the highest term seen so far, and a check that refuses anything stamped
 * with an older one.
 *
 * Raft terms only grow, and a leader of term t is deposed the moment any node has seen
 * term t + 1. A deposed leader does not know it yet: it may still answer clients, or ask
 * a component to perform a side effect (write a file, sign a checkpoint). Putting a
 * fence in front of the side effect turns "the old leader still acts" into a definite
 * refusal:
 *
 * ```text
 *   check(term)
 *     term < highest ──▶ E_FENCED_STALE_TERM (definite: nothing done on its behalf)
 *     term = highest ──▶ admitted
 *     term > highest ──▶ admitted, highest = term (every older term is fenced from now on)
 * ```
 *
 * The fence is the "fencing token" of lock services, with the Raft term as the token.
 * It keeps one number and reads no clock, so it is identical wherever the same terms
 * pass through it.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { ELECTION_ERRORS } from './catalog.ts';

const fail = errorFactory(ELECTION_ERRORS);

function checkTermArgument(term: number): void {
  if (!Number.isSafeInteger(term) || term < 0) throw new RangeError(`term must be a non-negative integer, got ${term}`);
}

/** Remembers the highest term seen and fences every older one. */
export class TermFence {
  #highest: number;

  /**
   * @param highest - the highest term already known (0 for a fresh fence); a node
   *   passes its persisted term so a restart does not reopen the fence
   */
  constructor(highest = 0) {
    checkTermArgument(highest);
    this.#highest = highest;
  }

  /** The highest term seen so far. */
  get highest(): number {
    return this.#highest;
  }

  /** Raises the fence to `term` when it is higher; never lowers it. */
  observe(term: number): void {
    checkTermArgument(term);
    if (term > this.#highest) this.#highest = term;
  }

  /** True when `term` would pass {@link check}; changes nothing. */
  verify(term: number): boolean {
    checkTermArgument(term);
    return term >= this.#highest;
  }

  // #region fence-check
  /**
   * Admits a request stamped with `term`, or refuses it when a newer term has been seen.
   * An admitted higher term raises the fence, so from then on the older term is refused.
   * @param term - the term the request (or answer) carries
   * @param what - names the request in the error message, e.g. `answer from n2`
   * @throws {@link CivicError} `E_FENCED_STALE_TERM` when `term` is below the highest seen
   */
  check(term: number, what = 'request'): void {
    checkTermArgument(term);
    if (term < this.#highest) {
      throw fail('E_FENCED_STALE_TERM', `Cannot accept ${what}: it carries term ${term}, but term ${this.#highest} has already been seen`);
    }
    this.#highest = term;
  }
  // #endregion fence-check
}
