/**
 * Week 10's commands (`wal`) given missing, unreadable (as nobody), wrong-type,
 * garbage and out-of-range arguments: each fails with a catalog code, the exit status
 * the catalog documents, and no stack trace (issue 14).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { commandsWithoutCases, driveBadInput, makeBadPaths, NOBODY, type BadInputCase } from '../../lib/testing.ts';
import { WEEK10_CLI } from './node_wal_cli.ts';

const WHERE = { module: new URL('./node_wal_cli.ts', import.meta.url), name: 'WEEK10_CLI' };
const p = makeBadPaths('week10-bad-input');
afterAll(() => p.remove());

const CASES: BadInputCase[] = [
  { argv: ['wal', 'inspect', p.missing], code: 'E_PATH_NOT_FOUND' },
  { argv: ['wal', 'inspect', p.garbage], code: 'E_PATH_NOT_DIR' },
  { argv: ['wal', 'inspect', p.secretDir], code: 'E_PATH_PERMISSION', uid: NOBODY },
  { argv: ['wal', 'recover', p.garbage] },
  { argv: ['wal', 'recover', p.secretDir], uid: NOBODY },
  { argv: ['wal', 'repair', p.missing, '--truncate-at', '1'] },
  { argv: ['wal', 'repair', p.dir, '--truncate-at', 'x'] },
  { argv: ['wal', 'bench', p.garbage, '--count', '1'], code: 'E_PATH_NOT_DIR' },
  { argv: ['wal', 'bench', p.dir, '--count', '-1'], code: 'E_USAGE_FLAG' },
  { argv: ['wal', 'policy', '--fsync', 'sometimes'], code: 'E_USAGE_VALUE' },
  { argv: ['kv', 'serve', '--keys', p.dir, '--wal', p.garbage, '--port', '0'] },
  { argv: ['kv', 'serve', '--keys', p.dir, '--snapshot-dir', p.garbage, '--port', '0'] },
];

describe('week 10: every command fails with a coded, documented error', () => {
  it('covers every command the week adds', () => {
    expect(commandsWithoutCases(WEEK10_CLI, CASES, ['wal'])).toEqual([]);
  });

  it('missing, unreadable, wrong-type, garbage and out-of-range arguments', async () => {
    expect(await driveBadInput(WEEK10_CLI, WHERE, CASES)).toEqual([]);
  }, 120_000);
});
