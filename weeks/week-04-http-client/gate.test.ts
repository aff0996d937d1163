/**
 * The week 4 gate. The criterion tests for the parser, the client, its CLI and the
 * health endpoint live beside the code they prove; the gate runs them by importing
 * their files (vitest.config.ts leaves those files to the gate, so they run once),
 * and adds the end-to-end trace through two real processes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../lib/errors.ts';
import { TSX_LOADER, runCliProcess } from '../../lib/testing.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const CLI = fileURLToPath(new URL('../../capstone/bin/civictrust.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'civictrust-week4-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The JSON-lines records of a log file. */
function records(path: string): { request_id?: string; msg: string; [k: string]: unknown }[] {
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

describe('week-04 · readiness-driven I/O and an HTTP client', async () => {
  await import('./http_parser.test.ts');
  await import('./node_http_client.test.ts');
  await import('./node_http_cli.test.ts');
  await import('./node_health_server.test.ts');

  // #region end-to-end-trace
  it('[4.4] one request id appears in the client process log and in the server process log', async () => {
    const serverLog = join(work, 'server.log');
    const clientLog = join(work, 'client.log');
    const server = spawn(process.execPath, ['--import', TSX_LOADER, join(here, 'node_main.ts'),
      'server', 'run', '--port', '0', '--health-port', '0', '--log', serverLog, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const ready = await new Promise<{ health: string }>((resolve, reject) => {
        server.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()) as { health: string }));
        server.once('exit', (code) => reject(new Error(`server exited ${code} before listening`)));
      });
      const probe = await runCliProcess(['http', 'get', ready.health, '--request-id', 'trace-e2e-4', '--log', clientLog],
        { entry: join(here, 'node_main.ts') });
      expect(probe.code).toBe(EXIT.ok);
      expect(JSON.parse(probe.stdout.slice(probe.stdout.indexOf('{')))).toMatchObject({ status: 'ok' });
      expect(records(clientLog).filter((r) => r.request_id === 'trace-e2e-4')).toHaveLength(1);
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
      const traced = records(serverLog).filter((r) => r.request_id === 'trace-e2e-4');
      expect(traced).toHaveLength(1);
      expect(traced[0]).toMatchObject({ msg: 'http request', path: '/healthz', status: 200 });
    } finally {
      server.kill('SIGKILL');
    }
  });
  // #endregion end-to-end-trace

  it('[4.4] the civictrust binary offers --health-port on server run', async () => {
    const help = await runCliProcess(['server', 'run', '--help'], { entry: CLI });
    expect(help.stdout).toContain('--health-port');
  });
});
