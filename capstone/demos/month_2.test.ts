/**
 * The month-2 demo as a real process: `run.mjs month-2 --quick --json` generates keys,
 * starts the signed node, sends the evidence matrix, loads it through overload and
 * recovery, cuts slow senders, drains it with SIGTERM, and prints its report. The test
 * checks that every check in the report passed and that the evidence has the promised
 * shape: each case's code, no curve math for cheap refusals, every overload refusal
 * explicit. It asserts no speed.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from './run_demo.ts';

const out = mkdtempSync(join(tmpdir(), 'civictrust-month2-test-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** One load phase of the report. */
interface Phase { requests: number; ok: number; refused: number; lost: number; codes: Record<string, number>; okPerSec: number; p50Ms: number; p95Ms: number }

/** The parts of the report the test reads. */
interface Report {
  demo: string;
  pass: boolean;
  config: { quick: boolean; seed: number };
  checks: { step: number; name: string; pass: boolean; detail: string }[];
  keys: { modes: { key: string; ring: string }; looseKey: { exit: number; error: string } };
  node: { port: number; health: string; metrics: string; backend: string };
  evidence: { case: string; requestId: string; expected: string; got: string; curveChecks: number }[];
  load: { throughput: Phase; normal: Phase; overload: Phase & { ladderChanges: number; curveChecks: number }; recovery: Phase };
  deadline: { errorCode: string; stage: string; curveChecks: number };
  slowloris: { senders: number; codes: string[]; honest: string };
  drain: { inFlight: number; verdicts: string[]; exit: { code: number } };
  counts: { byCode: Record<string, number> };
  files: { json: string; markdown: string; svg: string };
}

describe('month-2 demo', () => {
  it('runs in --quick --json mode as a real process, every check passes, and the evidence has its promised shape', async () => {
    const run = await runDemo(['month-2', '--quick', '--json', '--out', out], 150_000);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.demo).toBe('month-2');
    expect(report.config).toMatchObject({ quick: true, seed: 2 });
    expect(report.checks.length).toBeGreaterThanOrEqual(25);
    expect(report.checks.filter((c) => !c.pass)).toEqual([]);
    expect(report.pass).toBe(true);

    expect(report.keys.modes).toEqual({ key: '0600', ring: '0644' });
    expect(report.keys.looseKey.exit).toBe(5);
    expect(report.keys.looseKey.error).toMatch(/^error\[E_KEY_PERMISSIONS\]/);
    expect(report.node.backend).toBe('webcrypto');

    // Each case with its code; the replayed packet three times; curve math only where the cheap checks cannot decide.
    expect(report.evidence.map((e) => [e.requestId, e.got])).toEqual([
      ['m2-valid', 'ok'],
      ['m2-tamper-payload', 'E_SIG_INVALID'],
      ['m2-tamper-meta', 'E_SIG_INVALID'],
      ['m2-replay', 'ok'],
      ['m2-replay', 'E_REPLAY'],
      ['m2-replay', 'E_REPLAY'],
      ['m2-replay', 'E_REPLAY'],
      ['m2-expired', 'E_TIMESTAMP_EXPIRED'],
      ['m2-unsigned', 'E_SIG_MISSING'],
      ['m2-unknown-key', 'E_KEY_UNKNOWN'],
    ]);
    expect(report.evidence.map((e) => e.curveChecks)).toEqual([1, 0, 1, 1, 0, 0, 0, 0, 0, 0]);

    const { throughput, normal, overload, recovery } = report.load;
    expect(throughput.requests).toBeGreaterThan(0);
    expect(throughput).toMatchObject({ refused: 0, lost: 0 });
    expect(throughput.ok).toBe(throughput.requests);
    expect(normal.lost).toBe(0);
    expect(overload.lost).toBe(0);
    expect(overload.ok + overload.refused).toBe(overload.requests);
    expect(overload.refused).toBeGreaterThan(0);
    expect(Object.keys(overload.codes).every((code) => code === 'E_OVERLOADED' || code === 'E_SHED_LOW_PRIORITY' || code === 'E_DEADLINE_EXCEEDED')).toBe(true);
    expect(overload.ladderChanges).toBeGreaterThan(0);
    expect(overload.curveChecks).toBeLessThanOrEqual(overload.requests - (overload.codes.E_OVERLOADED ?? 0) - (overload.codes.E_SHED_LOW_PRIORITY ?? 0));
    expect(recovery.ok).toBe(recovery.requests);
    for (const phase of [throughput, normal, overload, recovery]) expect(phase.p95Ms).toBeGreaterThanOrEqual(phase.p50Ms);

    expect(report.deadline).toEqual({ ...report.deadline, errorCode: 'E_DEADLINE_EXCEEDED', stage: 'queue', curveChecks: 2 });
    expect(report.slowloris.codes).toEqual(Array.from({ length: report.slowloris.senders }, () => 'E_SLOW_CLIENT'));
    expect(report.slowloris.honest).toBe('ok');
    expect(report.drain.verdicts).toEqual(Array.from({ length: report.drain.inFlight }, () => 'ok'));
    expect(report.drain.exit.code).toBe(0);
    for (const code of ['E_SIG_INVALID', 'E_REPLAY', 'E_TIMESTAMP_EXPIRED', 'E_SIG_MISSING', 'E_KEY_UNKNOWN', 'E_DEADLINE_EXCEEDED']) {
      expect(report.counts.byCode[code], code).toBeGreaterThan(0);
    }

    expect(JSON.parse(readFileSync(report.files.json, 'utf8'))).toEqual(report);
    expect(readFileSync(report.files.markdown, 'utf8')).toContain('| case | request id | expected | got |');
    expect(readFileSync(report.files.svg, 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
  }, 180_000);

  it('lists month-2 on --help and refuses a bad flag with E_DEMO_USAGE and exit 2, before starting anything', async () => {
    const help = await runDemo(['--help'], 30_000);
    expect(help.stdout).toContain('month-2');
    const bad = await runDemo(['month-2', '--rate', 'lots'], 30_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error\[E_DEMO_USAGE\]: Cannot use --rate/);
  }, 60_000);
});
