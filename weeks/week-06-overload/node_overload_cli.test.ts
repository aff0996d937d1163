/**
 * `civictrust overload load|serve`, run in process: the load report's latency
 * percentiles (p99 included, from the phase's own answers) against a server whose runner
 * makes one answer in 25 slow on purpose, and the serve flags that are refused before
 * anything starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../lib/cli.ts';
import { counterIds, systemClock } from '../../lib/clock.ts';
import { createLogger, memorySink, preciseClock } from '../../lib/framing.ts';
import type { TaskRunner } from './controller.ts';
import { WEEK6_CLI } from './node_overload_cli.ts';
import type { PhaseSummary } from './node_load.ts';
import { OverloadServer } from './node_overload_server.ts';

/** How long the slow answers take, at least. */
const SLOW_MS = 200;

/** A runner that answers at once, except every 25th task, which takes {@link SLOW_MS}: 4 % of the answers, a tail p95 misses and p99 shows. */
function tailRunner(): TaskRunner {
  let n = 0;
  return {
    submit<I, O>(): Promise<O> {
      n += 1;
      const delayMs = n % 25 === 0 ? SLOW_MS : 0;
      return new Promise((resolve) => setTimeout(() => resolve({ dropped: false, body: new Uint8Array(1) } as O), delayMs));
    },
  };
}

/** Runs `civictrust …` in process, keeping stdout and stderr apart. */
async function civictrust(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    stdin: async function* () {},
    clock: systemClock,
    ids: counterIds(),
  };
  const code = await runCli(args, WEEK6_CLI, io);
  return { code, stdout, stderr };
}

let server: OverloadServer;
beforeAll(async () => {
  const logger = createLogger({ clock: preciseClock, ids: counterIds(), sink: memorySink().sink });
  server = await OverloadServer.listen({ runner: tailRunner(), concurrency: 64, logger });
});
afterAll(() => server.close({ reason: 'test', graceMs: 2000 }));

describe('civictrust overload load', () => {
  // #region p99-test
  it('reports p50, p95 and p99 per phase; with one answer in 25 slow on purpose, p99 is at least the slow answers\' delay', async () => {
    const run = await civictrust(['overload', 'load', '--port', String(server.address.port), '--rate', '100', '--seconds', '2', '--json']);
    expect(run.code).toBe(0);
    const [phase] = (JSON.parse(run.stdout) as { phases: PhaseSummary[] }).phases;
    const { sent, ok, p50Ms, p95Ms, p99Ms } = phase as PhaseSummary;
    expect(ok).toBe(sent);
    expect(sent).toBeGreaterThanOrEqual(150); // about 200 go out; at least 6 of them slow, so the slowest 1 % are all slow
    expect(p99Ms).toBeGreaterThanOrEqual(SLOW_MS);
    expect(p95Ms).toBeLessThanOrEqual(p99Ms as number);
    expect(p50Ms).toBeLessThanOrEqual(p95Ms as number);
  });

  it('prints p99 on every interval line and on the phase summary', async () => {
    const run = await civictrust(['overload', 'load', '--port', String(server.address.port), '--rate', '50', '--seconds', '1']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^normal: 50\/s offered, (\d+)\/\1 ok \([\d.]+\/s\), p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms, error rate 0\.00 %$/);
    for (const line of lines.slice(0, -1)) expect(line).toMatch(/ p50 [\d.]+ms p95 [\d.]+ms p99 [\d.]+ms/);
  });
  // #endregion p99-test
});

describe('civictrust overload serve', () => {
  it.each([
    [['--stage-split', 'admission=10,queue=40,pool=40'], 'Cannot use --stage-split admission=10,queue=40,pool=40: the split names no share for reply'],
    [['--stage-split', 'admission=10,queue=50,pool=50,reply=10'], 'the stage shares must add up to 100, got 120'],
    [['--client-rate', '-1'], '--client-rate'],
  ])('refuses %j with a usage error before it binds anything', async (flags, message) => {
    const run = await civictrust(['overload', 'serve', '--port', '0', ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});
