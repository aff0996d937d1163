/**
 * `civictrust http get|post`: output, exit statuses from the fixed table, and the
 * structured log record of a refused response carrying its reason and request id.
 * Most runs are in-process with a fixed clock and ids; one runs the real entry point
 * as a child process, where a crash would show.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { counterIds, steppingClock } from '../../lib/clock.ts';
import { runCli, type CliIo } from '../../lib/cli.ts';
import { EXIT } from '../../lib/errors.ts';
import { readLog, type LogRecord } from '../../lib/logger.ts';
import { errorCodeOf, runCliProcess } from '../../lib/testing.ts';
import { WEEK4_CLI } from './node_server_cli.ts';
import { closedPort, replyAndClose, serve, type Script } from './testdata/servers.ts';

/** Every record of a log file, read back with week 1's strict reader. */
async function records(path: string): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const record of readLog(path)) out.push(record);
  return out;
}

const work = mkdtempSync(join(tmpdir(), 'civictrust-week4-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs the CLI in-process with a fixed clock and counter ids. */
async function cli(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stdin: async function* () {},
    clock: steppingClock(Date.UTC(2026, 3, 1), 1_000),
    ids: counterIds('q'),
  };
  const code = await runCli(argv, WEEK4_CLI, io);
  return { code, stdout, stderr };
}

/** Starts a server with `script`, runs `civictrust http <argv with {url} replaced>`, stops the server. */
async function withServer(script: Script, argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const server = await serve(script);
  try {
    return await cli(argv.map((a) => a.replace('{url}', `${server.origin}/healthz`)));
  } finally {
    await server.close();
  }
}

const GOOD = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n';
const MALFORMED = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Broken header: yes\r\nContent-Length: 3\r\n\r\nok\n';

describe('civictrust http', () => {
  it('get prints the status line, the headers and the body, and exits 0', async () => {
    const run = await withServer(replyAndClose(GOOD), ['http', 'get', '{url}']);
    expect(run).toEqual({ code: 0, stdout: 'HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 3\n\nok\n', stderr: '' });
  });

  it('get --json prints one JSON object with the request id that was sent', async () => {
    const run = await withServer(replyAndClose(GOOD), ['http', 'get', '{url}', '--json', '--request-id', 'trace-json-1']);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ request_id: 'trace-json-1', status: 200, body: 'ok\n', headers: [['Content-Type', 'text/plain'], ['Content-Length', '3']] });
  });

  it('post sends --data with its Content-Type', async () => {
    let seen = '';
    const run = await withServer((socket, head) => {
      seen = head;
      socket.end(GOOD);
    }, ['http', 'post', '{url}', '--data', 'x=1', '--content-type', 'application/x-www-form-urlencoded']);
    expect(run.code).toBe(0);
    expect(seen).toMatch(/^POST \/healthz HTTP\/1\.1\r\n/);
    expect(seen).toContain('Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\n');
  });

  it('--fail exits 1 on a 503 and still prints the response', async () => {
    const run = await withServer(replyAndClose('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n'), ['http', 'get', '{url}', '--fail']);
    expect([run.code, run.stdout.split('\n')[0]]).toEqual([EXIT.negative, 'HTTP/1.1 503 Service Unavailable']);
  });

  // #region exit-table
  it.each([
    ['a malformed header', replyAndClose(MALFORMED), [], EXIT.integrity, 'E_HTTP_BAD_HEADER'],
    ['two Content-Lengths', replyAndClose('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok'), [], EXIT.integrity, 'E_HTTP_CONFLICTING_LENGTH'],
    ['a body over --max-body-bytes', replyAndClose(GOOD), ['--max-body-bytes', '2'], EXIT.data, 'E_HTTP_BODY_TOO_LARGE'],
    ['a response cut short', replyAndClose('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nok'), [], EXIT.unavailable, 'E_HTTP_TRUNCATED'],
    ['a silent server', (() => {}) as Script, ['--timeout-read', '100'], EXIT.unavailable, 'E_HTTP_READ_TIMEOUT'],
  ] as const)('exits with the table status for %s', async (_, script, flags, exit, code) => {
    const run = await withServer(script, ['http', 'get', '{url}', ...flags]);
    expect([run.code, errorCodeOf(run.stderr)]).toEqual([exit, code]);
    expect(run.stderr).toMatch(/\nhint: .+\n$/);
  });

  it.each([
    ['a refused connection', async (): Promise<string> => `http://127.0.0.1:${await closedPort()}/`, EXIT.unavailable, 'E_HTTP_CONNECT_REFUSED'],
    ['a URL that is not http', async (): Promise<string> => 'ftp://127.0.0.1/', EXIT.usage, 'E_HTTP_BAD_URL'],
    ['a multicast address', async (): Promise<string> => 'http://239.1.2.3/', EXIT.usage, 'E_HTTP_BAD_ADDRESS'],
  ] as const)('exits with the table status for %s', async (_, url, exit, code) => {
    const run = await cli(['http', 'get', await url()]);
    expect([run.code, errorCodeOf(run.stderr)]).toEqual([exit, code]);
  });
  // #endregion exit-table

  it('refuses a request id with a CRLF as a usage error, and a timeout out of range', async () => {
    expect(errorCodeOf((await cli(['http', 'get', 'http://127.0.0.1:1/', '--request-id', 'a\r\nb'])).stderr)).toBe('E_HTTP_BAD_REQUEST');
    expect(errorCodeOf((await cli(['http', 'get', 'http://127.0.0.1:1/', '--timeout-read', '0'])).stderr)).toBe('E_USAGE_VALUE');
  });

  // #region logged-rejection
  it('[4.2] logs a refused response with its reason, its code and the request id', async () => {
    const logFile = join(work, 'client.log');
    const run = await withServer(replyAndClose(MALFORMED), ['http', 'get', '{url}', '--request-id', 'trace-4-2', '--log', logFile]);
    expect(run.code).toBe(EXIT.integrity);
    const logged = await records(logFile);
    expect(logged).toHaveLength(1);
    const record = logged[0] as LogRecord;
    expect(record).toMatchObject({
      level: 'error',
      request_id: 'trace-4-2',
      fields: { error_code: 'E_HTTP_BAD_HEADER', result: 'error', transient: false, method: 'GET' },
    });
    expect(record.msg).toContain('(request id trace-4-2): header line 2 has whitespace before the colon');
  });
  // #endregion logged-rejection

  it('[4.2] logs a complete response with its status and request id', async () => {
    const logFile = join(work, 'ok.log');
    await withServer(replyAndClose(GOOD), ['http', 'get', '{url}', '--request-id', 'trace-ok', '--log', logFile]);
    const [record] = await records(logFile);
    expect(record).toMatchObject({ level: 'info', request_id: 'trace-ok', fields: { status: 200, result: 'ok', body_bytes: 3 } });
  });

  // #region real-process
  it('[4.1] a malformed header ends the real process with exit 8 and one coded error line, not a crash', async () => {
    const server = await serve(replyAndClose(MALFORMED));
    try {
      const entry = fileURLToPath(new URL('./node_main.ts', import.meta.url));
      const run = await runCliProcess(['http', 'get', `${server.origin}/healthz`, '--request-id', 'trace-proc'], { entry });
      expect(run.code).toBe(EXIT.integrity);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^error\[E_HTTP_BAD_HEADER\]: Cannot complete GET http:\/\/127\.0\.0\.1:\d+\/healthz \(request id trace-proc\): header line 2 /);
      expect(lines[1]).toMatch(/^hint: /);
    } finally {
      await server.close();
    }
  });
  // #endregion real-process
});
