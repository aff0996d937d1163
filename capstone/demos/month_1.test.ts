/**
 * The month-1 demo as a real process: `run.mjs month-1 --quick --json` starts the
 * server, loads it, kills and restarts it, and prints its report; the test checks the
 * report's shape and that every check in it passed. It asserts no speed: only that
 * each figure is there and the success rates are what the demo promises.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from './run_demo.ts';

const out = mkdtempSync(join(tmpdir(), 'civictrust-month1-test-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The parts of the report the test reads. */
interface Report {
  demo: string;
  pass: boolean;
  config: { clients: number; quick: boolean; payloadBytes: number[] };
  checks: { step: number; name: string; pass: boolean; detail: string }[];
  health: { requestId: string; status: number; echoedRequestId: string; serverRecord: { request_id: string } | null };
  load: { payloadBytes: number; requests: number; ok: number; failed: number; successRate: number; requestsPerSecond: number; megabytesPerSecond: number; p50Ms: number; p95Ms: number }[];
  failure: {
    port: number;
    before: { successRate: number };
    kill: { exit: { signal: string | null; code: number | null } };
    restart: { port: number; listeningMs: number; healthyMs: number };
    failures: { total: number; definite: number; indefinite: number; byCode: { code: string; kind: string; definite: boolean; count: number }[] };
    outageMs: number;
    recovery: { requests: number; failed: number; successRate: number };
  };
  serverLog: { records: number; errors: number; serverListening: number; serverStopped: number };
  files: { json: string; markdown: string };
}

describe('month-1 demo', () => {
  it('runs in --quick --json mode as a real process, and every check in its report passes', async () => {
    const run = await runDemo(['month-1', '--quick', '--json', '--out', out], 120_000);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.demo).toBe('month-1');
    expect(report.config).toMatchObject({ quick: true, clients: 50, payloadBytes: [64, 4096, 65536] });
    expect(report.checks.length).toBeGreaterThanOrEqual(15);
    expect(report.checks.filter((c) => !c.pass)).toEqual([]);
    expect(report.pass).toBe(true);

    expect(report.health).toMatchObject({ requestId: 'demo-health-1', status: 200, echoedRequestId: 'demo-health-1' });
    expect(report.health.serverRecord?.request_id).toBe('demo-health-1');

    expect(report.load.map((row) => row.payloadBytes)).toEqual([64, 4096, 65536]);
    for (const row of report.load) {
      expect(row.requests).toBeGreaterThan(0);
      expect(row).toMatchObject({ failed: 0, successRate: 1 });
      for (const figure of [row.requestsPerSecond, row.megabytesPerSecond, row.p50Ms, row.p95Ms]) expect(figure).toBeGreaterThan(0);
      expect(row.p95Ms).toBeGreaterThanOrEqual(row.p50Ms);
    }

    const failure = report.failure;
    expect(failure.before.successRate).toBe(1);
    expect(failure.kill.exit.signal === 'SIGKILL' || failure.kill.exit.code === 137).toBe(true);
    expect(failure.restart.port).toBe(failure.port);
    expect(failure.restart.healthyMs).toBeGreaterThan(0);
    expect(failure.failures.total).toBeGreaterThan(0);
    expect(failure.failures.definite + failure.failures.indefinite).toBe(failure.failures.total);
    expect(failure.failures.byCode.every((row) => row.kind === 'transport')).toBe(true);
    expect(failure.outageMs).toBeGreaterThan(0);
    expect(failure.recovery.requests).toBeGreaterThan(0);
    expect(failure.recovery).toMatchObject({ failed: 0, successRate: 1 });

    expect(report.serverLog).toMatchObject({ errors: 0, serverListening: 2, serverStopped: 1 });
    expect(JSON.parse(readFileSync(report.files.json, 'utf8'))).toEqual(report);
    expect(readFileSync(report.files.markdown, 'utf8')).toContain('| payload | requests | success |');
  }, 150_000);

  it('lists the demos on --help and refuses an unknown name with E_DEMO_UNKNOWN and exit 2', async () => {
    const help = await runDemo(['--help'], 30_000);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('month-1');
    const unknown = await runDemo(['month-9'], 30_000);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error\[E_DEMO_UNKNOWN\]: .*\nhint: /);
  }, 60_000);

  it('refuses a bad flag with E_DEMO_USAGE and exit 2, before starting anything', async () => {
    const bad = await runDemo(['month-1', '--seconds', 'many'], 30_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error\[E_DEMO_USAGE\]: Cannot use --seconds/);
  }, 60_000);
});
