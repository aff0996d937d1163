/**
 * Week 2's commands (`echo`) given missing, unreadable (as nobody), wrong-type,
 * garbage and out-of-range arguments: each fails with a catalog code, the exit status
 * the catalog documents, and no stack trace (issue 14).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { commandsWithoutCases, driveBadInput, makeBadPaths, NOBODY, type BadInputCase } from '../../lib/testing.ts';
import { WEEK2_CLI } from './node_echo_cli.ts';

const WHERE = { module: new URL('./node_echo_cli.ts', import.meta.url), name: 'WEEK2_CLI' };
const p = makeBadPaths('week2-bad-input');
afterAll(() => p.remove());

const CASES: BadInputCase[] = [
  { argv: ['echo', 'serve', '--port', '99999'], code: 'E_USAGE_VALUE' },
  { argv: ['echo', 'serve', '--host', '999.1.1.1', '--port', '0'], code: 'E_NET_BAD_ADDRESS' },
  { argv: ['echo', 'serve', '--port', '0', '--log', p.dir], code: 'E_PATH_IS_DIR' },
  { argv: ['echo', 'serve', '--port', '0', '--log', p.secretFile], code: 'E_PATH_PERMISSION', uid: NOBODY },
  { argv: ['echo', 'send', '--port', '0', 'hi'], code: 'E_USAGE_VALUE' },
  { argv: ['echo', 'send', '--port', 'x', 'hi'], code: 'E_USAGE_VALUE' },
  { argv: ['echo', 'send', '--port', '1', '--attempts', '1', 'hi'], code: 'E_NET_REFUSED' },
  { argv: ['echo', 'send', '--port', '1', '--host', '999.1.1.1', 'hi'], code: 'E_NET_BAD_ADDRESS' },
  { argv: ['echo', 'send', '--port', '1', '--request-id', 'bad id', 'hi'], code: 'E_USAGE_VALUE' },
  { argv: ['echo', 'send', '--port', '1', '--log', p.missing, 'hi'], code: 'E_PATH_NOT_FOUND' },
];

describe('week 2: every command fails with a coded, documented error', () => {
  it('covers every command the week adds', () => {
    expect(commandsWithoutCases(WEEK2_CLI, CASES, ['echo'])).toEqual([]);
  });

  it('missing, unreadable, wrong-type, garbage and out-of-range arguments', async () => {
    expect(await driveBadInput(WEEK2_CLI, WHERE, CASES)).toEqual([]);
  }, 120_000);
});

describe('the message header', () => {
  it('refuses a duplicated member (JSON.parse would keep the last one)', async () => {
    const { parseMessage } = await import('./message.ts');
    const { thrownCode } = await import('../../lib/testing.ts');
    const payload = (header: string) => new TextEncoder().encode(`${header}\nbody`);
    expect(thrownCode(() => parseMessage(payload('{"v":1,"type":"echo","request_id":"a","request_id":"b"}')))).toBe('E_MESSAGE_MALFORMED');
    expect(thrownCode(() => parseMessage(payload('{"v":1,"type":"echo","request_id":"a","\\u0076":1}')))).toBe('E_MESSAGE_MALFORMED');
    expect(parseMessage(payload('{ "v": 1, "type": "echo", "request_id": "a" }')).requestId).toBe('a');
  });
});
