/**
 * A fake week-1 gate for the runner's integration test: [1.1] passes, [1.2] is only
 * skipped (so it must not count), [1.8] is not in the table, and the rest are missing.
 * @module
 */
import { describe, expect, it } from 'vitest';

describe('week-1 · fixture gate', () => {
  it('[1.1] a passing claim counts for its criterion', () => {
    expect(1 + 1).toBe(2);
  });
  it.skip('[1.2] a skipped claim does not count as run', () => {
    expect(true).toBe(false);
  });
  it('[1.8] an id outside the gate table is flagged', () => {
    expect(true).toBe(true);
  });
});
