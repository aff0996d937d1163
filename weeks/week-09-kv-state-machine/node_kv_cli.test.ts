/**
 * The `kv` command group as real processes: `kv serve` on an ephemeral port, `kv put`,
 * `kv get` and `kv del` as separate CLI runs, SIGTERM writing a snapshot, and a restart
 * that restores it (and falls back past a damaged one, logging the refusal).
 * @module
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../lib/cli.ts';
import { counterIds, systemClock } from '../../lib/clock.ts';
import { startServerProcess, waitForRecords } from '../../lib/framing.ts';
import { generateKey } from '../../lib/signing.ts';
import { errorCodeOf, runCliProcess } from '../../lib/testing.ts';
import { WEEK9_CLI } from './node_kv_cli.ts';

const ENTRY = fileURLToPath(new URL('./node_main.ts', import.meta.url));

function kv(args: readonly string[]) {
  return runCliProcess(['kv', ...args], { entry: ENTRY });
}

describe('civictrust kv (real processes)', () => {
  let dir: string;
  let keys: string;
  let snaps: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kv-cli-'));
    keys = join(dir, 'keys');
    snaps = join(dir, 'snaps');
    generateKey(keys, 'alice', { clock: systemClock });
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('serves put, get and del, writes a snapshot on SIGTERM, and restarts from it', async () => {
    const signedFlags = ['--keys', keys, '--key', 'alice'];
    const first = await startServerProcess(['kv', 'serve', '--keys', keys, '--snapshot-dir', snaps], { entry: ENTRY });
    const port = ['--port', String(first.port)];
    try {
      const put = await kv(['put', ...port, ...signedFlags, '--request-id', 'cli-1', '--json', 'ballot', 'yes']);
      expect(put.code).toBe(0);
      expect(JSON.parse(put.stdout)).toMatchObject({ ok: true, op: 'put', key: 'ballot', version: 1, lsn: 1 });
      expect((await kv(['put', ...port, ...signedFlags, 'gone', 'soon'])).code).toBe(0);
      const del = await kv(['del', ...port, ...signedFlags, '--json', 'gone']);
      expect(JSON.parse(del.stdout)).toMatchObject({ ok: true, op: 'delete', version: 2 });
      const get = await kv(['get', ...port, 'ballot']);
      expect(get).toMatchObject({ code: 0 });
      expect(get.stdout).toMatch(/^ok get ballot version=1 term=0 value="yes" value_hash=[0-9a-f]{64}\n$/);
    } finally {
      const exit = await first.stop('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
    }
    expect(first.stdout()).toMatch(/stopped on SIGTERM: lsn 3, 1 key\(s\), snapshot .*snapshot-0000000000000003\.ctkv/);
    expect(await readdir(snaps)).toEqual(['snapshot-0000000000000003.ctkv']);

    const second = await startServerProcess(['kv', 'serve', '--keys', keys, '--snapshot-dir', snaps], { entry: ENTRY });
    const again = ['--port', String(second.port)];
    try {
      expect(JSON.parse((await kv(['get', ...again, '--json', 'ballot'])).stdout)).toMatchObject({ ok: true, value: 'yes', version: 1 });
      const missing = await kv(['get', ...again, '--json', 'gone']);
      expect(missing.code).toBe(4);
      expect(errorCodeOf(missing.stderr)).toBe('E_KV_NOT_FOUND');
      expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, version: 2 }); // the tombstone kept its version
      // The dedupe table came back with the snapshot: a retry after the restart gets its first answer.
      const retry = await kv(['put', ...again, ...signedFlags, '--request-id', 'cli-1', '--json', 'ballot', 'yes']);
      expect(JSON.parse(retry.stdout)).toMatchObject({ ok: true, version: 1, lsn: 1 });
      const reused = await kv(['put', ...again, ...signedFlags, '--request-id', 'cli-1', 'ballot', 'no']);
      expect(reused.code).toBe(3);
      expect(errorCodeOf(reused.stderr)).toBe('E_KV_REQUEST_ID_REUSED');
      expect(reused.stderr).toMatch(/^hint: /m);
    } finally {
      expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
  });

  it('logs a damaged newest snapshot with its code at start and serves the previous good one', async () => {
    const files = (await readdir(snaps)).sort();
    expect(files).toEqual(['snapshot-0000000000000003.ctkv', 'snapshot-0000000000000005.ctkv']);
    const newest = join(snaps, files[1] as string);
    const bytes = new Uint8Array(await readFile(newest));
    bytes[bytes.length - 2] = (bytes[bytes.length - 2] as number) ^ 0x40;
    await writeFile(newest, bytes);
    const log = join(dir, 'kv.log');
    const server = await startServerProcess(['kv', 'serve', '--keys', keys, '--snapshot-dir', snaps, '--log', log], { entry: ENTRY });
    try {
      // The file sink writes asynchronously: wait for the ready record, then read everything before it.
      const records = await waitForRecords(log, (seen) => seen.some((r) => r.msg === 'kv server ready'), 15_000);
      expect(records).toContainEqual(expect.objectContaining({ msg: 'snapshot refused', file: newest, error_code: 'E_SNAPSHOT_CHECKSUM' }));
      expect(records).toContainEqual(expect.objectContaining({ msg: 'snapshot loaded', file: join(snaps, files[0] as string), lsn: 3 }));
      const get = await kv(['get', '--port', String(server.port), '--json', 'ballot']);
      expect(JSON.parse(get.stdout)).toMatchObject({ ok: true, value: 'yes', version: 1 });
    } finally {
      await server.stop('SIGKILL'); // no snapshot on the way out: the damaged file stays for the next check
    }
  });

  it('refuses to start when snapshot files exist and none passes its checks', async () => {
    const bad = await mkdtemp(join(dir, 'bad-'));
    await writeFile(join(bad, 'snapshot-0000000000000001.ctkv'), 'CTKVSNAP but not a snapshot');
    const result = await kv(['serve', '--keys', keys, '--snapshot-dir', bad]);
    expect(result.code).toBe(4);
    expect(errorCodeOf(result.stderr)).toBe('E_SNAPSHOT_NONE');
    expect(result.stderr).toMatch(/snapshot-0000000000000001\.ctkv: E_SNAPSHOT_/);
  });
});

describe('civictrust kv --help', () => {
  function memoryIo(): { io: CliIo; out: () => string } {
    let out = '';
    const io: CliIo = {
      stdout: (text) => { out += text; },
      stderr: (text) => { out += text; },
      stdin: async function* () {},
      clock: systemClock,
      ids: counterIds(),
    };
    return { io, out: () => out };
  }

  it.each([
    ['serve', ['--keys', '--port', '--snapshot-dir', '--log', '--json']],
    ['put', ['--keys', '--key', '--port', '--request-id', '--if-version', '--json']],
    ['get', ['--port', '--json']],
    ['del', ['--keys', '--key', '--port', '--request-id', '--if-version', '--json']],
  ])('kv %s --help lists its flags and exits 0', async (verb, flags) => {
    const { io, out } = memoryIo();
    expect(await runCli(['kv', verb, '--help'], WEEK9_CLI, io)).toBe(0);
    for (const flag of flags) expect(out()).toContain(flag);
  });

  it('a put without --key is a usage error naming the flag', async () => {
    const { io, out } = memoryIo();
    expect(await runCli(['kv', 'put', '--port', '1', '--keys', '/nonexistent', 'k', 'v'], WEEK9_CLI, io)).toBe(2);
    expect(out()).toMatch(/^error\[E_USAGE_[A-Z]+\]: .*--key/m);
  });
});
