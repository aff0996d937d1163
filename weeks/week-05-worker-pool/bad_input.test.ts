/**
 * Week 5's commands (`pool`) given missing, unreadable (as nobody), wrong-type,
 * garbage and out-of-range arguments: each fails with a catalog code, the exit status
 * the catalog documents, and no stack trace (issue 14).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { commandsWithoutCases, driveBadInput, makeBadPaths, type BadInputCase } from '../../lib/testing.ts';
import { WEEK5_CLI } from './node_week5_cli.ts';

const WHERE = { module: new URL('./node_week5_cli.ts', import.meta.url), name: 'WEEK5_CLI' };
const p = makeBadPaths('week5-bad-input');
afterAll(() => p.remove());

const CASES: BadInputCase[] = [
  { argv: ['pool', 'run', '--workers', '0'], code: 'E_USAGE_VALUE' },
  { argv: ['pool', 'run', '--tasks', 'many'], code: 'E_USAGE_VALUE' },
  { argv: ['pool', 'run', '--handlers', p.missing], code: 'E_WORKER_LOAD' },
  { argv: ['pool', 'run', '--handlers', p.dir], code: 'E_WORKER_LOAD' },
  { argv: ['pool', 'run', '--handlers', p.garbage], code: 'E_WORKER_LOAD' },
  { argv: ['pool', 'drill', '--handlers', p.missing], code: 'E_WORKER_LOAD' },
  { argv: ['pool', 'drill', '--queue', '-3'], code: 'E_USAGE_FLAG' },
];

describe('week 5: every command fails with a coded, documented error', () => {
  it('covers every command the week adds', () => {
    expect(commandsWithoutCases(WEEK5_CLI, CASES, ['pool'])).toEqual([]);
  });

  it('missing, unreadable, wrong-type, garbage and out-of-range arguments', async () => {
    expect(await driveBadInput(WEEK5_CLI, WHERE, CASES)).toEqual([]);
  }, 120_000);
});
