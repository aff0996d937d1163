/**
 * The week 1 gate: one or more tests per pass-if criterion of the gate table, each
 * named `[1.k] <claim>`. `npm run gate -- week-1` maps them to the criteria.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LOG_ERRORS } from './catalog.ts';
import type { CliIo } from './cli.ts';
import { counterIds, steppingClock } from './clock.ts';
import { EXIT } from './errors.ts';
import { runCli } from './node_cli.ts';
import { LOG_COMMANDS, WEEK1_CLI } from './node_log_cli.ts';
import { readLog } from './node_log_file.ts';
import { encodeRecord } from './record.ts';
import { TSX_LOADER, errorCodeOf, runCliProcess, type CliResult } from './node_spawn_cli.ts';
import { makeWorkspace } from './node_workspace.ts';
import { driveBadInput, makeBadPaths, NOBODY, type BadInputCase } from './node_bad_input.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const workspace = makeWorkspace('week1');
const work = workspace.dir;
const fresh = workspace.fresh;
afterAll(() => workspace.remove());

/** Runs the CLI in-process with a fixed clock and counter ids, capturing everything. */
async function runInProcess(argv: readonly string[], stdin?: Uint8Array): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stdin: async function* () {
      if (stdin !== undefined) yield stdin;
    },
    clock: fixedClock,
    ids: fixedIds,
  };
  const code = await runCli(argv, WEEK1_CLI, io);
  return { code, stdout, stderr };
}
let fixedClock = steppingClock(Date.UTC(2026, 0, 1), 1000);
let fixedIds = counterIds('r');

/** A log file holding `n` good records, written through the real code path. */
async function seededLog(n: number): Promise<string> {
  const file = fresh('seed.log');
  for (let i = 1; i <= n; i += 1) expect((await runInProcess(['log', 'append', '-f', file, `record ${i}`])).code).toBe(0);
  return file;
}

describe('week-01 · CLI contract and append-only logger', () => {
  // #region arg-matrix
  /** The 12-case argument matrix: argv → the exit status and error code the contract names. */
  const MATRIX: readonly { args: (log: string) => string[]; exit: number; code?: string; why: string }[] = [
    { why: 'valid append', args: (l) => ['log', 'append', '-f', l, 'hello'], exit: EXIT.ok },
    { why: 'valid read', args: (l) => ['log', 'read', '-f', l], exit: EXIT.ok },
    { why: 'valid search with a match', args: (l) => ['log', 'search', '-f', l, 'seed'], exit: EXIT.ok },
    { why: 'valid search without a match', args: (l) => ['log', 'search', '-f', l, 'absent'], exit: EXIT.negative },
    { why: 'no command at all', args: () => [], exit: EXIT.usage, code: 'E_USAGE_MISSING' },
    { why: 'a noun without a verb', args: () => ['log'], exit: EXIT.usage, code: 'E_USAGE_MISSING' },
    { why: 'an unknown verb', args: () => ['log', 'delete'], exit: EXIT.usage, code: 'E_USAGE_COMMAND' },
    { why: 'a missing required flag', args: () => ['log', 'append', 'hello'], exit: EXIT.usage, code: 'E_USAGE_MISSING' },
    { why: 'a missing operand', args: (l) => ['log', 'append', '-f', l], exit: EXIT.usage, code: 'E_USAGE_MISSING' },
    { why: 'an unknown flag', args: (l) => ['log', 'read', '-f', l, '--follow'], exit: EXIT.usage, code: 'E_USAGE_FLAG' },
    { why: 'a malformed flag value', args: (l) => ['log', 'read', '-f', l, '--limit', 'ten'], exit: EXIT.usage, code: 'E_USAGE_VALUE' },
    { why: 'too many operands', args: (l) => ['log', 'append', '-f', l, 'two', 'words'], exit: EXIT.usage, code: 'E_USAGE_EXTRA' },
  ];
  // #endregion arg-matrix

  it('[1.1] every row of the 12-case argument matrix exits as the contract says, as a real process', async () => {
    expect(MATRIX).toHaveLength(12);
    const log = fresh('matrix.log');
    writeFileSync(log, encodeRecord({ ts: '2026-01-01T00:00:00.000Z', id: 's-1', level: 'info', msg: 'seed' }));
    const results = await Promise.all(MATRIX.map((row) => runCliProcess(row.args(log))));
    const got = results.map((r, i) => ({ why: MATRIX[i]?.why, exit: r.code, code: errorCodeOf(r.stderr) }));
    const want = MATRIX.map((row) => ({ why: row.why, exit: row.exit, code: row.code }));
    expect(got).toEqual(want);
    // Errors go to stderr only; data goes to stdout only.
    results.forEach((r, i) => {
      if (MATRIX[i]?.code !== undefined) expect(r.stdout).toBe('');
      else expect(r.stderr).toBe('');
    });
  });

  it('[1.1] help is data: --help prints to stdout, exits 0, and lists the exit-status table', async () => {
    const r = await runCliProcess(['--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    for (const code of Object.values(EXIT)) expect(r.stdout).toMatch(new RegExp(`^\\s+${code}\\s`, 'm'));
    for (const verb of ['append', 'read', 'search']) expect((await runInProcess(['log', verb, '--help'])).code).toBe(0);
  });

  it('[1.2] failure drill: appending where the process may not write exits 5 with E_PATH_PERMISSION, log untouched', () => {
    const run = spawnSync(process.execPath, [join(here, 'drill.mjs'), '--json'], { encoding: 'utf8' });
    const report = JSON.parse(run.stdout) as { pass: boolean; steps: { name: string; pass: boolean; got: string }[] };
    expect(report.steps.filter((s) => !s.pass)).toEqual([]);
    expect(report.steps.map((s) => s.name)).toEqual(expect.arrayContaining(['append to a read-only log', 'the existing log is unchanged']));
    expect(run.status).toBe(0);
  });

  // #region concurrent-appenders
  it('[1.3] records appended by several processes at once are never interleaved or torn', async () => {
    const log = fresh('concurrent.log');
    const writers = ['w1', 'w2', 'w3', 'w4'];
    const perWriter = 150;
    const script = join(here, 'testdata', 'append_many.ts');
    const exits = await Promise.all([
      ...writers.map((name) => new Promise<number | null>((done) => {
        spawn(process.execPath, ['--import', TSX_LOADER, script, log, name, String(perWriter)], { stdio: 'inherit' })
          .on('close', done);
      })),
      // Real CLI processes join in while the writers run.
      ...Array.from({ length: 6 }, (_, i) => runCliProcess(['log', 'append', '-f', log, `cli:${i}:${'z'.repeat(9000)}`]).then((r) => r.code)),
    ]);
    expect(exits.every((code) => code === 0)).toBe(true);

    const seen = new Map<string, number[]>();
    for await (const record of readLog(log)) { // throws on any torn or spliced line
      const [name, seq, body] = record.msg.split(':');
      expect(body).toMatch(/^(.)\1*$/); // one letter, never a mix of two writers
      seen.set(name as string, [...(seen.get(name as string) ?? []), Number(seq)]);
    }
    for (const name of writers) {
      expect(seen.get(name)).toEqual(Array.from({ length: perWriter }, (_, i) => i)); // all there, in order
    }
    expect(seen.get('cli')?.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(statSync(log).size).toBeGreaterThan(4 * 4096); // far beyond PIPE_BUF
  });
  // #endregion concurrent-appenders

  it('[1.3] negative control: a writer that splits a record into two writes is caught as E_LOG_CORRUPT', async () => {
    const log = fresh('torn.log');
    const a = encodeRecord({ ts: '2026-01-01T00:00:00.000Z', id: 'a', level: 'info', msg: 'a'.repeat(100) });
    const b = encodeRecord({ ts: '2026-01-01T00:00:00.000Z', id: 'b', level: 'info', msg: 'b'.repeat(100) });
    appendFileSync(log, a.subarray(0, 50)); // writer A's first half
    appendFileSync(log, b); //                 writer B lands in between
    appendFileSync(log, a.subarray(50)); //    writer A's second half
    await expect(async () => {
      for await (const record of readLog(log)) void record;
    }).rejects.toMatchObject({ code: 'E_LOG_CORRUPT' });
  });

  // #region size-bounds
  it('[1.4] record size is bounded before any I/O: empty rejected, max accepted, max+1 rejected', async () => {
    const max = 200;
    // Real records carry a 24-character timestamp and a 36-character UUID.
    const overhead = encodeRecord({ ts: '2026-01-01T00:00:00.000Z', id: 'u'.repeat(36), level: 'info', msg: '-' }).length - 1;
    const log = fresh('bounds.log');
    const append = (msg: string, file = log) => runCliProcess(['log', 'append', '-f', file, '--max-bytes', String(max), msg]);

    const empty = await append('');
    expect([empty.code, errorCodeOf(empty.stderr), existsSync(log)]).toEqual([EXIT.data, 'E_RECORD_EMPTY', false]);

    const atMax = await append('m'.repeat(max - overhead));
    expect(atMax.code).toBe(EXIT.ok);
    expect(statSync(log).size).toBe(max);

    const overMax = await append('m'.repeat(max - overhead + 1));
    expect([overMax.code, errorCodeOf(overMax.stderr)]).toEqual([EXIT.data, 'E_RECORD_TOO_LARGE']);
    expect(statSync(log).size).toBe(max);

    // Refused before the path is even looked at: a missing directory is never reported.
    const nowhere = await append('m'.repeat(max - overhead + 1), join(work, 'no', 'such', 'dir', 'x.log'));
    expect(errorCodeOf(nowhere.stderr)).toBe('E_RECORD_TOO_LARGE');
  });
  // #endregion size-bounds

  it('[1.4] stdin over the limit is refused, and the limit itself is range-checked', async () => {
    const log = fresh('stdin.log');
    const flood = await runCliProcess(['log', 'append', '-f', log, '--stdin', '--max-bytes', '1024'], { stdin: 'x'.repeat(4 << 20) });
    expect([flood.code, errorCodeOf(flood.stderr), existsSync(log)]).toEqual([EXIT.data, 'E_RECORD_TOO_LARGE', false]);
    for (const bad of ['0', '1048577', '1.5']) {
      expect(errorCodeOf((await runInProcess(['log', 'append', '-f', log, '--max-bytes', bad, 'x'])).stderr)).toBe('E_USAGE_VALUE');
    }
    expect((await runInProcess(['log', 'append', '-f', log, '--max-bytes', '1048576', 'x'])).code).toBe(EXIT.ok);
  });

  describe('[1.5] malformed input fails closed with a stable code', () => {
    const good = (id: string) => encodeRecord({ ts: '2026-01-01T00:00:00.000Z', id, level: 'info', msg: `msg ${id}` });
    const damage: readonly [string, Uint8Array | string, string, number][] = [
      ['a line that is not JSON', 'not json at all\n', 'E_LOG_CORRUPT', 2],
      ['a JSON array', '[1,2,3]\n', 'E_LOG_CORRUPT', 2],
      ['a record without a level', '{"ts":"2026-01-01T00:00:00.000Z","id":"x","msg":"m"}\n', 'E_LOG_CORRUPT', 2],
      ['invalid UTF-8', new Uint8Array([0x7b, 0xc3, 0x28, 0x7d, 0x0a]), 'E_LOG_CORRUPT', 2],
      ['a line longer than the max', `${'x'.repeat(70_000)}\n`, 'E_LOG_CORRUPT', 2],
      ['a torn last line', '{"ts":"2026-01-01T00:00:00.0', 'E_LOG_TORN_TAIL', 2],
    ];
    it.each(damage)('[1.5] a log with %s stops the read with exit 8 after the good records, file unchanged', async (_, bad, code, line) => {
      const log = fresh('damaged.log');
      writeFileSync(log, good('a'));
      appendFileSync(log, bad);
      appendFileSync(log, typeof bad === 'string' && code === 'E_LOG_TORN_TAIL' ? '' : good('c'));
      const before = readFileSync(log);
      const r = await runInProcess(['log', 'read', '-f', log]);
      expect([r.code, errorCodeOf(r.stderr)]).toEqual([EXIT.integrity, code]);
      expect(r.stderr).toContain(`line ${line}`);
      expect(r.stdout).toContain('msg a');
      expect(r.stdout).not.toContain('msg c');
      const skipping = await runInProcess(['log', 'read', '-f', log, '--skip-bad', '--json']);
      expect(skipping.code).toBe(EXIT.integrity); // still says the log is damaged
      expect(skipping.stdout.split('\n').filter(Boolean)).toHaveLength(code === 'E_LOG_TORN_TAIL' ? 1 : 2);
      expect(readFileSync(log)).toEqual(before);
    });

    const badArgs: readonly [string, string[], string][] = [
      ['a hex number', ['log', 'read', '--max-bytes', '0x100'], 'E_USAGE_VALUE'],
      ['an exponent', ['log', 'read', '--limit', '1e3'], 'E_USAGE_VALUE'],
      ['a negative count', ['log', 'read', '--from', '-1'], 'E_USAGE_FLAG'],
      ['an unknown level', ['log', 'append', '--level', 'LOUD', 'x'], 'E_USAGE_VALUE'],
      ['a field without a name', ['log', 'append', '--field', '=x', 'x'], 'E_USAGE_VALUE'],
      ['a field shadowing a core field', ['log', 'append', '--field', 'msg=x', 'x'], 'E_USAGE_VALUE'],
      ['a time that is not ISO 8601', ['log', 'search', '--since', 'yesterday'], 'E_USAGE_VALUE'],
      ['a flag missing its value', ['log', 'read', '--file'], 'E_USAGE_FLAG'],
      ['a message and --stdin at once', ['log', 'append', '--stdin', 'x'], 'E_USAGE_EXTRA'],
      ['a search with no condition', ['log', 'search'], 'E_USAGE_MISSING'],
      ['a NUL byte in the path', ['log', 'read', '-f', 'a\0b'], 'E_PATH_INVALID'],
    ];
    it.each(badArgs)('[1.5] %s is refused with its code and exit 2, nothing written', async (_, argv, code) => {
      const log = fresh('untouched.log');
      const args = argv.includes('--file') || argv.includes('-f') ? argv : [...argv.slice(0, 2), '-f', log, ...argv.slice(2)];
      const r = await runInProcess(args);
      expect([r.code, errorCodeOf(r.stderr), r.stdout]).toEqual([EXIT.usage, code, '']);
      expect(existsSync(log)).toBe(false);
    });

    it('[1.5] an append to a log ending in a torn record closes the torn line: the new record lands whole, the torn bytes stay and are reported', async () => {
      const log = await seededLog(2);
      appendFileSync(log, '{"ts":"2026-01-01T00:0'); // a writer died mid-record
      expect((await runInProcess(['log', 'append', '-f', log, 'after the crash'])).code).toBe(EXIT.ok);
      const read = await runInProcess(['log', 'read', '-f', log, '--skip-bad']);
      expect([read.code, errorCodeOf(read.stderr)]).toEqual([EXIT.integrity, 'E_LOG_CORRUPT']);
      expect(read.stderr).toContain('line 3');
      expect(read.stdout.trim().split('\n').map((l) => l.replace(/^\S+ \S+\s+\S+ /, ''))).toEqual(['record 1', 'record 2', 'after the crash']);
      expect(readFileSync(log, 'utf8')).toContain('{"ts":"2026-01-01T00:0\n');
    });

    it('[1.5] log repair moves a torn tail to FILE.torn before cutting it, and reports when there is nothing to do', async () => {
      const log = await seededLog(2);
      appendFileSync(log, '{"ts":"2026-01-01T00:0');
      const repaired = await runInProcess(['log', 'repair', '-f', log, '--json']);
      expect(JSON.parse(repaired.stdout)).toEqual({ tornBytes: 22, quarantine: `${log}.torn` });
      expect(readFileSync(`${log}.torn`, 'utf8')).toBe('{"ts":"2026-01-01T00:0');
      const read = await runInProcess(['log', 'read', '-f', log]);
      expect([read.code, read.stdout.trim().split('\n').length]).toEqual([EXIT.ok, 2]);
      expect((await runInProcess(['log', 'repair', '-f', log])).stdout).toContain('nothing to repair');
    });

    it('[1.5] an empty line, left when an append closed a line another writer was still writing, is skipped as no record', async () => {
      const log = await seededLog(1);
      appendFileSync(log, '\n');
      expect((await runInProcess(['log', 'append', '-f', log, 'next'])).code).toBe(EXIT.ok);
      const read = await runInProcess(['log', 'read', '-f', log]);
      expect([read.code, read.stdout.trim().split('\n').length]).toEqual([EXIT.ok, 2]);
    });

    it('[1.5] a message on stdin that is not UTF-8 is refused with E_RECORD_ENCODING', async () => {
      const log = fresh('utf8.log');
      const r = await runInProcess(['log', 'append', '-f', log, '--stdin'], new Uint8Array([0x61, 0xff, 0x62]));
      expect([r.code, errorCodeOf(r.stderr), existsSync(log)]).toEqual([EXIT.data, 'E_RECORD_ENCODING', false]);
    });

    it('[1.5] missing, unreadable (as nobody), wrong-type paths and a malformed request id fail with a catalog code and its documented exit, no stack trace (bad_input.test.ts has the full drive)', async () => {
      const paths = makeBadPaths('week1-gate-bad');
      try {
        const cases: BadInputCase[] = [
          { argv: ['log', 'read', '-f', paths.missing], code: 'E_PATH_NOT_FOUND' },
          { argv: ['log', 'read', '-f', paths.dir], code: 'E_PATH_IS_DIR' },
          { argv: ['log', 'append', '-f', join(paths.garbage, 'x.log'), 'x'], code: 'E_PATH_NOT_DIR' },
          { argv: ['log', 'append', '-f', fresh('ids.log'), '--request-id', 'bad id', 'x'], code: 'E_USAGE_VALUE' },
          { argv: ['log', 'read', '-f', paths.secretFile], code: 'E_PATH_PERMISSION', uid: NOBODY },
        ];
        expect(await driveBadInput(WEEK1_CLI, { module: new URL('./node_log_cli.ts', import.meta.url), name: 'WEEK1_CLI' }, cases)).toEqual([]);
      } finally {
        paths.remove();
      }
    }, 60_000);
  });

  // #region golden
  it('[1.6] CLI output matches the golden transcript, with the clock and ids injected', async () => {
    fixedClock = steppingClock(Date.UTC(2026, 0, 1), 1000);
    fixedIds = counterIds('r');
    const dir = fresh('golden');
    mkdirSync(dir);
    const log = join(dir, 'events.log');
    const session: string[][] = [
      ['log', 'append', '-f', log, 'service started'],
      ['log', 'append', '-f', log, '--level', 'warn', '--request-id', 'q-42', '--field', 'node_id=n1', 'disk at 91%'],
      ['log', 'append', '-f', log, '--json', '--level', 'error', '--request-id', 'q-42', 'write failed'],
      ['log', 'read', '-f', log],
      ['log', 'read', '-f', log, '--json', '--from', '2'],
      ['log', 'search', '-f', log, '--request-id', 'q-42', '--level', 'error'],
      ['log', 'search', '-f', log, '-i', 'DISK'],
      ['log', 'search', '-f', log, 'no such words'],
      ['log', 'append', '-f', log, ''],
      ['log', 'read', '-f', join(dir, 'missing', 'x.log')],
      ['log', 'frobnicate'],
      ['--help'],
      ['log', '--help'],
      ['log', 'append', '--help'],
      ['log', 'read', '--help'],
      ['log', 'search', '--help'],
    ];
    let transcript = '';
    for (const argv of session) {
      const r = await runInProcess(argv);
      const shown = argv.map((a) => (a === '' || /\s|%/.test(a) ? `'${a}'` : a)).join(' ');
      transcript += `$ civictrust ${shown}\n${r.stdout}${r.stderr.replace(/^/gm, '! ').replace(/! $/, '')}[exit ${r.code}]\n\n`;
    }
    const golden = join(here, 'testdata', 'golden', 'session.txt');
    const actual = transcript.replaceAll(dir, '$DIR');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, actual); // review the diff before committing it
    expect(actual).toBe(readFileSync(golden, 'utf8'));
  });
  // #endregion golden

  // #region error-scenarios
  /** Every catalog code and a real way to make the CLI fail with it. */
  const SCENARIOS: Record<keyof typeof LOG_ERRORS, () => Promise<CliResult>> = {
    E_USAGE_COMMAND: () => runCliProcess(['lgo', 'read']),
    E_USAGE_FLAG: () => runCliProcess(['log', 'read', '-f', 'x.log', '--tail']),
    E_USAGE_MISSING: () => runCliProcess(['log', 'read']),
    E_USAGE_VALUE: () => runCliProcess(['log', 'append', '-f', fresh('v.log'), '--level', 'loud', 'x']),
    E_USAGE_EXTRA: () => runCliProcess(['log', 'read', '-f', 'x.log', 'extra']),
    E_PATH_INVALID: () => runCliProcess(['log', 'append', '-f', '', 'x']),
    E_PATH_NOT_FOUND: () => runCliProcess(['log', 'read', '-f', join(work, 'absent.log')]),
    E_PATH_IS_DIR: () => runCliProcess(['log', 'append', '-f', work, 'x']),
    E_PATH_NOT_DIR: async () => {
      const file = await seededLog(1);
      return runCliProcess(['log', 'append', '-f', join(file, 'inner.log'), 'x']);
    },
    E_PATH_PERMISSION: async () => {
      const file = await seededLog(1);
      chmodSync(file, 0o000);
      return runCliProcess(['log', 'read', '-f', file], process.getuid?.() === 0 ? { uid: 65534 } : {});
    },
    E_RECORD_EMPTY: () => runCliProcess(['log', 'append', '-f', fresh('e.log'), '']),
    E_RECORD_TOO_LARGE: () => runCliProcess(['log', 'append', '-f', fresh('t.log'), '--max-bytes', '64', 'x'.repeat(64)]),
    E_RECORD_ENCODING: () => runCliProcess(['log', 'append', '-f', fresh('u.log'), '--stdin'], { stdin: new Uint8Array([0xc0, 0x80]) }),
    E_LOG_CORRUPT: async () => {
      const file = fresh('c.log');
      writeFileSync(file, '{"broken"\n');
      return runCliProcess(['log', 'read', '-f', file]);
    },
    E_LOG_TORN_TAIL: async () => {
      const file = await seededLog(2);
      writeFileSync(file, readFileSync(file).subarray(0, -5));
      return runCliProcess(['log', 'read', '-f', file]);
    },
    // /proc/self/mem cannot be read at offset 0: the kernel answers EIO.
    E_IO: () => runCliProcess(['log', 'read', '-f', '/proc/self/mem']),
    // /dev/full accepts opens and fails every write with ENOSPC.
    E_IO_NO_SPACE: () => runCliProcess(['log', 'append', '-f', '/dev/full', 'x']),
    // A 50-byte file-size limit makes the kernel write only part of the record.
    E_IO_SHORT_WRITE: () => runCliProcess(['log', 'append', '-f', fresh('short.log'), 'x'.repeat(100)], { prefix: ['prlimit', '--fsize=50'] }),
    // fsync on a character device fails with EINVAL after the write succeeded.
    E_IO_SYNC: () => runCliProcess(['log', 'append', '-f', '/dev/null', '--sync', 'x']),
    // A bug: a command that throws something other than a CivicError.
    E_INTERNAL: async () => {
      const broken = { ...LOG_COMMANDS, commands: [{ ...LOG_COMMANDS.commands[0]!, run: () => Promise.reject(new TypeError('oops')) }] };
      let stderr = '';
      const io: CliIo = { stdout: () => {}, stderr: (t) => void (stderr += t), stdin: async function* () {}, clock: fixedClock, ids: fixedIds };
      const code = await runCli(['log', 'append', '-f', 'x', 'y'], { ...WEEK1_CLI, groups: [broken] }, io);
      return { code, stdout: '', stderr };
    },
  };
  // #endregion error-scenarios

  it('[1.7] an indefinite failure names the record id, so the user can find out whether it landed', async () => {
    const r = await runCliProcess(['log', 'append', '-f', '/dev/full', 'x']);
    expect(errorCodeOf(r.stderr)).toBe('E_IO_NO_SPACE');
    expect(LOG_ERRORS.E_IO_NO_SPACE.definite).toBe(false);
    expect(r.stderr).toMatch(/\(record id [0-9a-f-]{36}\)/);
  });

  it('[1.7] every code in the error catalog is produced by a real scenario, with its documented exit status', async () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual(Object.keys(LOG_ERRORS).sort());
    const entries = Object.entries(SCENARIOS) as [keyof typeof LOG_ERRORS, () => Promise<CliResult>][];
    const got: Record<string, { code: string | undefined; exit: number }> = {};
    for (let i = 0; i < entries.length; i += 6) { // a few processes at a time, not twenty at once
      await Promise.all(entries.slice(i, i + 6).map(async ([code, scenario]) => {
        const r = await scenario();
        got[code] = { code: errorCodeOf(r.stderr), exit: r.code };
      }));
    }
    const want = Object.fromEntries(entries.map(([code]) => [code, { code, exit: EXIT[LOG_ERRORS[code].exit] }]));
    expect(got).toEqual(want);
  }, 180_000); // twenty real processes: on a loaded two-core machine this has taken over a minute
});
