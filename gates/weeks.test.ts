/**
 * The week argument parser and the week-folder scan, including the trap this module
 * exists for: `week-1` must select week 1's folder and never week 10's.
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GateError } from './gate_error.ts';
import { findWeekFolders, gatePath, parseWeekArg } from './weeks.ts';

describe('parseWeekArg', () => {
  it.each([
    ['1', 1],
    ['01', 1],
    ['week-1', 1],
    ['week-01', 1],
    ['10', 10],
    ['week-24', 24],
    ['all', 'all'],
  ])('reads %j as %j', (arg, expected) => {
    expect(parseWeekArg(arg)).toBe(expected);
  });

  it.each(['0', '25', '00', 'week-0', 'week-25', 'week-x', 'week-', 'week-001', '', ' 1', 'w1', '1.0', 'ALL', '-1'])(
    'throws E_GATE_UNKNOWN_WEEK for %j',
    (arg) => {
      expect(() => parseWeekArg(arg)).toThrow(expect.objectContaining({ code: 'E_GATE_UNKNOWN_WEEK' }));
    },
  );

  it('names the bad argument and the accepted forms in its message', () => {
    expect(() => parseWeekArg('week-99')).toThrow(
      'Cannot run gate: no week "week-99" (expected 1-24, week-N or all)',
    );
  });
});

describe('findWeekFolders', () => {
  let root = '';

  afterEach(() => {
    if (root !== '') rmSync(root, { recursive: true, force: true });
    root = '';
  });

  /** Makes a scratch root with the given week folders; `gate` marks folders holding gate.test.ts. */
  function scratchRoot(folders: Record<string, 'gate' | 'empty'>): string {
    root = mkdtempSync(join(tmpdir(), 'civictrust-weeks-'));
    for (const [name, kind] of Object.entries(folders)) {
      mkdirSync(join(root, 'weeks', name), { recursive: true });
      if (kind === 'gate') writeFileSync(join(root, 'weeks', name, 'gate.test.ts'), '');
    }
    return root;
  }

  it('keys folders by week, so week 1 and week 10 are distinct entries', () => {
    const found = findWeekFolders(scratchRoot({ 'week-01-cli-logger': 'gate', 'week-10-wal-kv': 'gate' }));
    expect([...found.keys()]).toEqual([1, 10]);
    expect(found.get(1)).toEqual({
      week: 1,
      dir: join(root, 'weeks', 'week-01-cli-logger'),
      name: 'week-01-cli-logger',
      gateFile: join(root, 'weeks', 'week-01-cli-logger', 'gate.test.ts'),
    });
  });

  it('marks a folder without gate.test.ts as not built', () => {
    const found = findWeekFolders(scratchRoot({ 'week-02-framing': 'empty' }));
    expect(found.get(2)?.gateFile).toBeUndefined();
  });

  it('ignores names that are not week-NN-<slug> for a week in 1-24', () => {
    const found = findWeekFolders(
      scratchRoot({ 'week-1-short': 'gate', 'week-00-zero': 'gate', 'week-25-late': 'gate', 'week-03': 'gate', 'notes': 'gate' }),
    );
    expect(found.size).toBe(0);
  });

  it('returns an empty map when there is no weeks/ folder', () => {
    root = mkdtempSync(join(tmpdir(), 'civictrust-weeks-'));
    expect(findWeekFolders(root).size).toBe(0);
  });

  it('throws E_GATE_DUPLICATE_WEEK when two folders claim one week', () => {
    const duplicated = scratchRoot({ 'week-04-http': 'gate', 'week-04-epoll': 'empty' });
    expect(() => findWeekFolders(duplicated)).toThrow(GateError);
    expect(() => findWeekFolders(duplicated)).toThrow(expect.objectContaining({ code: 'E_GATE_DUPLICATE_WEEK' }));
  });
});

describe('gatePath', () => {
  it('points into the week\'s folder, or at a placeholder while there is none', () => {
    const folder = { week: 1, dir: '/x/weeks/week-01-cli-logger', name: 'week-01-cli-logger', gateFile: undefined };
    expect(gatePath(1, folder)).toBe('weeks/week-01-cli-logger/gate.test.ts');
    expect(gatePath(7, undefined)).toBe('weeks/week-07-<slug>/gate.test.ts');
  });
});
