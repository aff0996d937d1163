/**
 * Fixture for the summary reporter: a file whose only test passes.
 * @module
 */
import { expect, it } from 'vitest';

it('passes', () => {
  expect([1, 2]).toHaveLength(2);
});
