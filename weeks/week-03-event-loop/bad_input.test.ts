/**
 * Week 3's commands (`server`) given missing, unreadable (as nobody), wrong-type,
 * garbage and out-of-range arguments: each fails with a catalog code, the exit status
 * the catalog documents, and no stack trace (issue 14).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { commandsWithoutCases, driveBadInput, makeBadPaths, NOBODY, type BadInputCase } from '../../lib/testing.ts';
import { WEEK3_CLI } from './node_server_cli.ts';

const WHERE = { module: new URL('./node_server_cli.ts', import.meta.url), name: 'WEEK3_CLI' };
const p = makeBadPaths('week3-bad-input');
afterAll(() => p.remove());

const CASES: BadInputCase[] = [
  { argv: ['server', 'run', '--port', '99999'], code: 'E_USAGE_VALUE' },
  { argv: ['server', 'run', '--max-clients', '-1'], code: 'E_USAGE_FLAG' },
  { argv: ['server', 'run', '--host', '999.1.1.1', '--port', '0'], code: 'E_NET_BAD_ADDRESS' },
  { argv: ['server', 'run', '--port', '0', '--log', p.dir], code: 'E_PATH_IS_DIR' },
  { argv: ['server', 'run', '--port', '0', '--log', p.secretFile], code: 'E_PATH_PERMISSION', uid: NOBODY },
];

describe('week 3: every command fails with a coded, documented error', () => {
  it('covers every command the week adds', () => {
    expect(commandsWithoutCases(WEEK3_CLI, CASES, ['server'])).toEqual([]);
  });

  it('missing, unreadable, wrong-type, garbage and out-of-range arguments', async () => {
    expect(await driveBadInput(WEEK3_CLI, WHERE, CASES)).toEqual([]);
  }, 120_000);
});
