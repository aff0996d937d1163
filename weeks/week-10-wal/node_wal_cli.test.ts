/**
 * `civictrust kv serve --wal DIR --fsync POLICY` as real processes: signed puts are
 * acknowledged, the server is SIGKILLed, and a restart on the same directory has them;
 * SIGTERM writes a checkpoint. Plus the `wal` group's inspect, recover, bench and policy.
 */
import { mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { startServerProcess } from '../../lib/framing.ts';
import { generateKey } from '../../lib/signing.ts';
import { errorCodeOf, runCliProcess } from '../../lib/testing.ts';
import { slowestInPauses } from './node_wal_cli.ts';

const ENTRY = fileURLToPath(new URL('./node_main.ts', import.meta.url));
const cli = (args: readonly string[]) => runCliProcess(args, { entry: ENTRY });

describe('civictrust kv serve --wal (real processes)', () => {
  let dir: string;
  let keys: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wal-cli-'));
    keys = join(dir, 'keys');
    generateKey(keys, 'alice', { clock: systemClock });
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('keeps every acknowledged put across SIGKILL, and checkpoints on SIGTERM', async () => {
    const store = join(dir, 'store');
    const serve = ['kv', 'serve', '--keys', keys, '--wal', store, '--fsync', 'group'];
    const signed = ['--keys', keys, '--key', 'alice'];
    const first = await startServerProcess(serve, { entry: ENTRY });
    const port = ['--port', String(first.port)];
    const puts = await Promise.all(['a', 'b', 'c'].map((k) => cli(['kv', 'put', ...port, ...signed, '--json', k, `value-${k}`])));
    expect(puts.map((p) => p.code)).toEqual([0, 0, 0]);
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });

    const second = await startServerProcess(serve, { entry: ENTRY });
    const again = ['--port', String(second.port)];
    for (const k of ['a', 'b', 'c']) {
      expect(JSON.parse((await cli(['kv', 'get', ...again, '--json', k])).stdout)).toMatchObject({ ok: true, value: `value-${k}`, version: 1 });
    }
    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(second.stdout()).toMatch(/stopped on SIGTERM: checkpoint at lsn 3/);
    expect(await readdir(join(store, 'snapshots'))).toContain('snapshot-0000000000000003.ctkv');
  });

  it('refuses --fsync without --wal as a usage error', async () => {
    const out = await cli(['kv', 'serve', '--keys', keys, '--fsync', 'group']);
    expect(out.code).toBe(2);
    expect(errorCodeOf(out.stderr)).toBe('E_USAGE_VALUE');
  });

  it('wal inspect exits 8 on a torn tail; wal recover quarantines it with E_WAL_TORN; inspect is clean after', async () => {
    const bench = join(dir, 'bench');
    expect((await cli(['wal', 'bench', bench, '--count', '5', '--writers', '1', '--fsync', 'always'])).code).toBe(0);
    const store = join(bench, 'bench-always-1-5');
    await truncate(join(store, 'wal', 'wal-00000000000000000001.log'), 1340);
    const damaged = await cli(['wal', 'inspect', store]);
    expect(damaged.code).toBe(8);
    expect(damaged.stdout).toMatch(/4 record\(s\).*E_WAL_TORN/);
    const recovered = await cli(['wal', 'recover', store, '--json']);
    expect(recovered.code).toBe(0);
    const report = JSON.parse(recovered.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ lsn: 4, damage: 'E_WAL_TORN' });
    expect(report['cpu_ms']).toEqual(expect.any(Number)); // the restart's CPU time, beside its wall time
    expect(recovered.stderr).toMatch(/^warning\[E_WAL_TORN\]/);
    expect((await cli(['wal', 'inspect', store])).code).toBe(0);
  });

  it('wal bench --json reports the GC pauses of each row and how many of its slowest 1 % sat through one', async () => {
    const out = await cli(['wal', 'bench', join(dir, 'bench-gc'), '--count', '150', '--writers', '4', '--fsync', 'none', '--json']);
    expect(out.code).toBe(0);
    const row = JSON.parse(out.stdout) as Record<string, number>;
    expect(row).toMatchObject({ puts: 150, slowest_1pct: 2 });
    expect(row['slowest_1pct_in_gc']).toBeLessThanOrEqual(2);
    expect(row['gc_pauses']).toBeGreaterThanOrEqual(0);
  });

  it('wal policy prints the table the rules make, and refuses to relax a critical class with E_WAL_POLICY (exit 2)', async () => {
    const out = await cli(['wal', 'policy', '--fsync', 'none', '--sync', 'put=interval:20', '--json']);
    expect(out.code).toBe(0);
    expect(out.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown)).toEqual([
      { class: 'put', mode: 'interval:20', critical: false, acknowledged: 'once written, fsync within 20 ms' },
      { class: 'delete', mode: 'sync', critical: true, acknowledged: 'after its fsync' },
      { class: 'cas', mode: 'sync', critical: true, acknowledged: 'after its fsync' },
    ]);
    const relaxed = await cli(['wal', 'policy', '--sync', 'delete=none']);
    expect(relaxed.code).toBe(2);
    expect(errorCodeOf(relaxed.stderr)).toBe('E_WAL_POLICY');
  });

  it('kv serve --wal refuses a rule relaxing cas before it opens the store', async () => {
    const store = join(dir, 'never-opened');
    const out = await cli(['kv', 'serve', '--keys', keys, '--wal', store, '--fsync', 'none', '--sync', 'cas=interval:5']);
    expect(out.code).toBe(2);
    expect(errorCodeOf(out.stderr)).toBe('E_WAL_POLICY');
    await expect(readdir(store)).rejects.toThrow(/ENOENT/);
  });

  it('wal bench --class cas under --fsync none still syncs every command; plain puts sync none', async () => {
    const run = async (cls: string) => JSON.parse((await cli(['wal', 'bench', join(dir, `bench-class-${cls}`), '--count', '20', '--writers', '1', '--fsync', 'none', '--class', cls, '--json'])).stdout) as Record<string, unknown>;
    expect(await run('cas')).toMatchObject({ class: 'cas', sync: 'sync', fdatasyncs: 20 });
    expect(await run('put')).toMatchObject({ class: 'put', sync: 'none', fdatasyncs: 0 });
  });

  it('wal bench refuses an unknown --fsync policy as a usage error, before opening anything', async () => {
    const out = await cli(['wal', 'bench', join(dir, 'bench-bad'), '--fsync', 'group,none']);
    expect(out.code).toBe(2);
    expect(errorCodeOf(out.stderr)).toBe('E_USAGE_VALUE');
  });
});

describe('slowestInPauses', () => {
  const span = (start: number, end: number) => ({ start, end });
  it('counts the slowest 1 % (at least one) and which of them overlap a pause', () => {
    const puts = [...Array.from({ length: 198 }, (_, i) => span(i, i + 1)), span(500, 510), span(600, 605)];
    expect(slowestInPauses(puts, [span(508, 512)])).toEqual({ slowest: 2, inGc: 1 });
    expect(slowestInPauses(puts, [span(510, 600)])).toEqual({ slowest: 2, inGc: 0 }); // touching is not overlapping
    expect(slowestInPauses([span(0, 1), span(1, 2), span(2, 5)], [span(0, 0.5)])).toEqual({ slowest: 1, inGc: 0 }); // a fast put in a pause is not counted
  });
});
