/**
 * A fake week-10 gate for the runner's integration test: every criterion has a passing
 * test, so `week-10` passes, and `week-1` must never pick this file up.
 * @module
 */
import { describe, expect, it } from 'vitest';

describe('week-10 · fixture gate', () => {
  it('[10.1][10.3] a claim may prove two criteria', () => {
    expect([1, 2].length).toBe(2);
  });
  it('[10.2] another passing claim', () => {
    expect('wal').toMatch(/w/);
  });
});
