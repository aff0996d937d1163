/**
 * Week 6's commands (`overload`) given missing, unreadable (as nobody), wrong-type,
 * garbage and out-of-range arguments: each fails with a catalog code, the exit status
 * the catalog documents, and no stack trace (issue 14).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { commandsWithoutCases, driveBadInput, makeBadPaths, type BadInputCase } from '../../lib/testing.ts';
import { WEEK6_CLI } from './node_overload_cli.ts';

const WHERE = { module: new URL('./node_overload_cli.ts', import.meta.url), name: 'WEEK6_CLI' };
const p = makeBadPaths('week6-bad-input');
afterAll(() => p.remove());

const CASES: BadInputCase[] = [
  { argv: ['overload', 'serve', '--port', '99999'], code: 'E_USAGE_VALUE' },
  { argv: ['overload', 'serve', '--host', '999.1.1.1', '--port', '0'], code: 'E_NET_BAD_ADDRESS' },
  { argv: ['overload', 'serve', '--port', '0', '--thresholds', p.missing], code: 'E_USAGE_VALUE' },
  { argv: ['overload', 'serve', '--port', '0', '--thresholds', p.dir], code: 'E_USAGE_VALUE' },
  { argv: ['overload', 'serve', '--port', '0', '--thresholds', p.garbage], code: 'E_USAGE_VALUE' },
  { argv: ['overload', 'load', '--port', '1', '--seconds', '1'], code: 'E_NET_REFUSED' },
  { argv: ['overload', 'load', '--port', '1', '--host', '999.1.1.1', '--seconds', '1'], code: 'E_NET_BAD_ADDRESS' },
  { argv: ['overload', 'load', '--port', '70000'], code: 'E_USAGE_VALUE' },
];

describe('week 6: every command fails with a coded, documented error', () => {
  it('covers every command the week adds', () => {
    expect(commandsWithoutCases(WEEK6_CLI, CASES, ['overload'])).toEqual([]);
  });

  it('missing, unreadable, wrong-type, garbage and out-of-range arguments', async () => {
    expect(await driveBadInput(WEEK6_CLI, WHERE, CASES)).toEqual([]);
  }, 120_000);
});
