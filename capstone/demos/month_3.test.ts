/**
 * The month-3 demo as a real process: `run.mjs month-3 --quick --json` launches a
 * three-node cluster of week 12 replica processes, loads it with signed writes, SIGKILLs
 * the leader, restarts it, sends a duplicate, reads every key back and drains. The test
 * checks that every check in the report passed and that the evidence has the promised
 * shape: a new leader after the kill, the duplicate answered with the first reply, key
 * versions that add up, one state hash, a linearizable history on disk. It asserts no speed.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOperations, kvModel, type KvInput, type KvOutput, type Operation } from '../../lib/replication.ts';
import { runDemo } from './run_demo.ts';

const out = mkdtempSync(join(tmpdir(), 'civictrust-month3-test-'));

afterAll(() => rmSync(out, { recursive: true, force: true }));

/** One figures row of the report. */
interface Figures { puts: number; putsPerSec: number; p50Ms: number | null; p95Ms: number | null }

/** The parts of the report the test reads. */
interface Report {
  demo: string;
  pass: boolean;
  config: { quick: boolean; seed: number; clients: number };
  checks: { step: number; name: string; pass: boolean; detail: string }[];
  cluster: { nodes: { id: string }[]; firstLeader: string };
  failover: { killed: string; newLeader: string | null; failoverMs: number | null };
  duplicate: { first: Record<string, unknown>; again: Record<string, unknown>; versionBefore: number; versionAfter: number };
  proofs: { acked: number; unknown: number; lost: string[]; dupes: string[]; stateHash: string; linearizability: { verdict: string }; historyOps: number };
  figures: { before: Figures; after: Figures; retriedOperations: number };
  files: { json: string; markdown: string; svg: string; history: string };
}

describe('month-3 demo', () => {
  it('runs in --quick --json mode on real processes, every check passes, and the evidence has its promised shape', async () => {
    const run = await runDemo(['month-3', '--quick', '--json', '--out', out], 240_000);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.demo).toBe('month-3');
    expect(report.config).toMatchObject({ quick: true, seed: 3, clients: 4 });
    expect(report.checks.length).toBeGreaterThanOrEqual(11);
    expect(report.checks.filter((c) => !c.pass)).toEqual([]);
    expect(report.pass).toBe(true);

    expect(report.cluster.nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n3']);
    expect(report.failover.killed).toBe(report.cluster.firstLeader);
    expect(report.failover.newLeader).not.toBe(report.failover.killed);
    expect(report.failover.failoverMs).toBeGreaterThan(0);

    // The duplicate got the first answer back, and nothing moved.
    for (const field of ['version', 'lsn', 'term']) expect(report.duplicate.again[field], field).toBe(report.duplicate.first[field]);
    expect(report.duplicate.versionAfter).toBe(report.duplicate.versionBefore);

    expect(report.proofs.lost).toEqual([]);
    expect(report.proofs.dupes).toEqual([]);
    expect(report.proofs.acked).toBeGreaterThan(0);
    expect(report.proofs.stateHash).toMatch(/^[0-9a-f]{64}$/);
    expect(report.proofs.linearizability.verdict).toBe('ok');
    expect(report.figures.before.puts).toBeGreaterThan(0);
    expect(report.figures.after.puts).toBeGreaterThan(0);

    // The history on disk is the one checked: it passes the checker again, and a stale read planted in it does not.
    const history = (JSON.parse(readFileSync(report.files.history, 'utf8')) as (Operation<KvInput, KvOutput> & { ret: number | null })[])
      .map((o) => ({ ...o, ret: o.ret ?? Number.POSITIVE_INFINITY }));
    expect(history).toHaveLength(report.proofs.historyOps);
    expect(checkOperations(kvModel, history).verdict).toBe('ok');
    const finalRead = history.filter((o) => o.input.op === 'get' && o.output?.value !== null).at(-1) as Operation<KvInput, KvOutput>;
    const stale = { ...finalRead, client: 100, call: finalRead.ret + 1, ret: finalRead.ret + 2, output: { value: 'never-written' } };
    expect(checkOperations(kvModel, [...history, stale]).verdict).toBe('illegal');

    expect(JSON.parse(readFileSync(report.files.json, 'utf8'))).toEqual(report);
    expect(readFileSync(report.files.markdown, 'utf8')).toContain('| phase | acked puts | puts/s |');
    expect(readFileSync(report.files.svg, 'utf8')).toMatch(/^<svg[\s\S]*SIGKILL[\s\S]*<\/svg>\s*$/);
  }, 300_000);

  it('lists month-3 on --help and refuses a bad flag with E_DEMO_USAGE and exit 2, before starting anything', async () => {
    const help = await runDemo(['--help'], 30_000);
    expect(help.stdout).toContain('month-3');
    const bad = await runDemo(['month-3', '--clients', 'many'], 30_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error\[E_DEMO_USAGE\]: Cannot use --clients/);
  }, 60_000);
});
