/**
 * `civictrust lin check`, run in process on published vectors and scratch files: the
 * verdict, its exit status, the guessed model, the budget, and the coded refusals.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo, type CliSpec } from '../../lib/cli.ts';
import { counterIds, systemClock } from '../../lib/clock.ts';
import { LOG_ERRORS, mergeCatalogs } from '../../lib/errors.ts';
import { errorCodeOf, makeWorkspace } from '../../lib/testing.ts';
import { LIN_ERRORS } from './lin_catalog.ts';
import { LIN_COMMANDS } from './node_lin_cli.ts';

const VECTORS = fileURLToPath(new URL('./testdata/linearizability/', import.meta.url));
const SPEC: CliSpec = { name: 'civictrust', version: 'test', groups: [LIN_COMMANDS], catalog: mergeCatalogs(LOG_ERRORS, LIN_ERRORS) };
const workspace = makeWorkspace('week11-lin');
afterAll(() => workspace.remove());

/** Runs `civictrust lin …` in process, keeping stdout and stderr apart. */
async function lin(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => { stdout += text; },
    stderr: (text) => { stderr += text; },
    stdin: async function* () {},
    clock: systemClock,
    ids: counterIds(),
  };
  const code = await runCli(['lin', ...args], SPEC, io);
  return { code, stdout, stderr };
}

describe('civictrust lin check', () => {
  it('says a linearizable Jepsen log is ok and exits 0, guessing the register model', async () => {
    const out = await lin(['check', `${VECTORS}jepsen-etcd/etcd_005.log`, '--json']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ model: 'register', verdict: 'ok', partitions: 1 });
  });

  it('says a non-linearizable kv log is illegal and exits 1, naming the invoke lines of the longest prefix', async () => {
    const out = await lin(['check', `${VECTORS}kv/c01-bad.txt`, '--json']);
    expect(out.code).toBe(1);
    const report = JSON.parse(out.stdout) as { model: string; verdict: string; prefix_lines: number[] };
    expect(report).toMatchObject({ model: 'kv', verdict: 'illegal' });
    expect(report.prefix_lines.length).toBeGreaterThan(0);
    expect(report.prefix_lines.every((l) => Number.isInteger(l) && l >= 1)).toBe(true);
  });

  it('prints one verdict line without --json', async () => {
    const out = await lin(['check', `${VECTORS}kv/c01-ok.txt`]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^ok: .*c01-ok\.txt is linearizable \(\d+ operation\(s\), \d+ part\(s\), \d+ step\(s\)\)\n$/);
  });

  it('answers unknown and exits 1 when --max-steps runs out', async () => {
    const out = await lin(['check', `${VECTORS}jepsen-etcd/etcd_002.log`, '--max-steps', '10', '--json']);
    expect(out.code).toBe(1);
    expect(JSON.parse(out.stdout)).toMatchObject({ verdict: 'unknown', explored: 10 });
  });

  it('refuses a malformed history with E_LIN_HISTORY_MALFORMED and exit 3', async () => {
    const file = workspace.fresh('bad.log');
    writeFileSync(file, 'INFO  jepsen.util - 0\t:invoke\t:read\tnil\nnot a line\n');
    const out = await lin(['check', file]);
    expect(out.code).toBe(3);
    expect(errorCodeOf(out.stderr)).toBe('E_LIN_HISTORY_MALFORMED');
  });

  it('reads a Jepsen log as kv when told to, and refuses it', async () => {
    const out = await lin(['check', `${VECTORS}jepsen-etcd/etcd_005.log`, '--model', 'kv']);
    expect(errorCodeOf(out.stderr)).toBe('E_LIN_HISTORY_MALFORMED');
  });

  it('refuses a missing file with E_PATH_NOT_FOUND and an unknown model with E_USAGE_VALUE', async () => {
    expect(errorCodeOf((await lin(['check', workspace.fresh('absent.log')])).stderr)).toBe('E_PATH_NOT_FOUND');
    expect(errorCodeOf((await lin(['check', `${VECTORS}kv/c01-ok.txt`, '--model', 'queue'])).stderr)).toBe('E_USAGE_VALUE');
  });
});
