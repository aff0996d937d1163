/**
 * Week 4's commands (`server`, `http`) given missing, unreadable (as nobody), wrong-type,
 * garbage and out-of-range arguments: each fails with a catalog code, the exit status
 * the catalog documents, and no stack trace (issue 14).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { commandsWithoutCases, driveBadInput, makeBadPaths, type BadInputCase } from '../../lib/testing.ts';
import { WEEK4_CLI } from './node_server_cli.ts';

const WHERE = { module: new URL('./node_server_cli.ts', import.meta.url), name: 'WEEK4_CLI' };
const p = makeBadPaths('week4-bad-input');
afterAll(() => p.remove());

const CASES: BadInputCase[] = [
  { argv: ['server', 'run', '--port', '99999'], code: 'E_USAGE_VALUE' },
  { argv: ['server', 'run', '--host', '999.1.1.1', '--port', '0'], code: 'E_NET_BAD_ADDRESS' },
  { argv: ['http', 'get', 'not a url'], code: 'E_HTTP_BAD_URL' },
  { argv: ['http', 'get', 'http://127.0.0.1:1/'], code: 'E_HTTP_CONNECT_REFUSED' },
  { argv: ['http', 'get', 'http://127.0.0.1:1/', '--timeout-total', '-5'], code: 'E_USAGE_FLAG' },
  { argv: ['http', 'get', 'http://127.0.0.1:1/', '--request-id', 'bad id'], code: 'E_HTTP_BAD_REQUEST' },
  { argv: ['http', 'post', 'http://127.0.0.1:1/', '--data', 'x'], code: 'E_HTTP_CONNECT_REFUSED' },
  { argv: ['http', 'post', 'ftp://127.0.0.1/', '--data', 'x'] },
];

describe('week 4: every command fails with a coded, documented error', () => {
  it('covers every command the week adds', () => {
    expect(commandsWithoutCases(WEEK4_CLI, CASES, ['server', 'http'])).toEqual([]);
  });

  it('missing, unreadable, wrong-type, garbage and out-of-range arguments', async () => {
    expect(await driveBadInput(WEEK4_CLI, WHERE, CASES)).toEqual([]);
  }, 120_000);
});

describe('the response parser', () => {
  it.each(['999', '600', '099', '000'])('refuses status %s (only 100-599 are status codes)', async (status) => {
    const { HttpResponseParser } = await import('./http_parser.ts');
    const { thrownCode } = await import('../../lib/testing.ts');
    const parser = new HttpResponseParser();
    expect(thrownCode(() => parser.feed(new TextEncoder().encode(`HTTP/1.1 ${status} Odd\r\nContent-Length: 0\r\n\r\n`)))).toBe('E_HTTP_BAD_STATUS_LINE');
  });
});
