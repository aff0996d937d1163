/**
 * Week 9's commands (`kv`) given missing, unreadable (as nobody), wrong-type,
 * garbage and out-of-range arguments: each fails with a catalog code, the exit status
 * the catalog documents, and no stack trace (issue 14).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { commandsWithoutCases, driveBadInput, makeBadPaths, NOBODY, type BadInputCase } from '../../lib/testing.ts';
import { WEEK9_CLI } from './node_kv_cli.ts';

const WHERE = { module: new URL('./node_kv_cli.ts', import.meta.url), name: 'WEEK9_CLI' };
const p = makeBadPaths('week9-bad-input');
afterAll(() => p.remove());

const CASES: BadInputCase[] = [
  { argv: ['kv', 'serve', '--keys', p.missing, '--port', '0'], code: 'E_KEY_NOT_FOUND' },
  { argv: ['kv', 'serve', '--keys', p.garbage, '--port', '0'], code: 'E_PATH_NOT_DIR' },
  { argv: ['kv', 'serve', '--keys', p.secretDir, '--port', '0'], code: 'E_PATH_PERMISSION', uid: NOBODY },
  { argv: ['kv', 'serve', '--keys', p.dir, '--host', '999.1.1.1', '--port', '0'], code: 'E_NET_BAD_ADDRESS' },
  { argv: ['kv', 'serve', '--keys', p.dir, '--port', '99999'], code: 'E_USAGE_VALUE' },
  { argv: ['kv', 'put', 'a', 'b', '--keys', p.missing, '--key', 'k', '--port', '1'], code: 'E_KEY_NOT_FOUND' },
  { argv: ['kv', 'put', 'a', 'b', '--keys', p.dir, '--key', 'k', '--port', '1', '--if-version', 'x'], code: 'E_USAGE_VALUE' },
  { argv: ['kv', 'get', 'a', '--port', '1'], code: 'E_NET_REFUSED' },
  { argv: ['kv', 'get', 'a', '--port', '1', '--host', '999.1.1.1'], code: 'E_NET_BAD_ADDRESS' },
  { argv: ['kv', 'del', 'a', '--keys', p.secretDir, '--key', 'k', '--port', '1'], code: 'E_PATH_PERMISSION', uid: NOBODY },
];

describe('week 9: every command fails with a coded, documented error', () => {
  it('covers every command the week adds', () => {
    expect(commandsWithoutCases(WEEK9_CLI, CASES, ['kv'])).toEqual([]);
  });

  it('missing, unreadable, wrong-type, garbage and out-of-range arguments', async () => {
    expect(await driveBadInput(WEEK9_CLI, WHERE, CASES)).toEqual([]);
  }, 120_000);
});
