/**
 * Week 10's commands. `civictrust kv serve` gains `--wal DIR --fsync always|group|none`
 * (week 9's `kv` group with its `serve` verb wrapped: without `--wal` it is week 9's
 * in-memory server, unchanged); `civictrust wal inspect DIR` reads a log without changing
 * it; `civictrust wal bench DIR` measures the durability-vs-latency table of the chapter.
 * @module
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { EXIT, LOG_ERRORS, errorFactory, isCivicError, mergeCatalogs, type ExitCode } from '../../lib/errors.ts';
import { LOG_COMMANDS, choiceFlag, choiceListFlag, intFlag, listFlag, stringFlag, type CliIo, type CliSpec, type CommandArgs, type CommandGroup, type CommandSpec, type FlagSpec } from '../../lib/cli.ts';
import { FRAME_ERRORS } from '../../lib/framing.ts';
import { HASH_ERRORS } from '../../lib/hashing.ts';
import { KV_COMMANDS, KV_ERRORS, serveKv, type KvCommand } from '../../lib/kv.ts';
import { SIGN_ERRORS } from '../../lib/signing.ts';
import { WAL_ERRORS } from './catalog.ts';
import { DurableKv } from './node_durable_kv.ts';
import { FSYNC_POLICIES, QUARANTINE_DIR, repairWal, segmentFirstLsn } from './node_wal.ts';
import { scanWal } from './record.ts';
import { COMMAND_CLASSES, CRITICAL_CLASSES, describeMode, syncPolicy, type CommandClass } from './sync_policy.ts';

const usage = errorFactory(LOG_ERRORS);
/** Every code week 10's commands can end with. */
const WAL_CLI_CATALOG = mergeCatalogs(LOG_ERRORS, FRAME_ERRORS, HASH_ERRORS, SIGN_ERRORS, KV_ERRORS, WAL_ERRORS);

function valueFlag(name: string, value: string, help: string, required = false): FlagSpec {
  return { name, type: 'string', value, help, ...(required ? { required } : {}) };
}
const JSON_FLAG: FlagSpec = { name: 'json', type: 'boolean', help: 'print one JSON object per line' };
const SYNC_FLAG: FlagSpec = {
  name: 'sync', type: 'string', multiple: true, value: 'CLASS=MODE',
  help: 'when a class of command is acknowledged: put=sync|interval:MS|none (delete and cas always sync)',
};

// #region durable-serve
/** `kv serve --wal DIR`: week 9's signed KV server over a DurableKv. */
function runDurableServe(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const dir = stringFlag(args, 'wal') as string;
  const fsync = choiceFlag(args, 'fsync', FSYNC_POLICIES) ?? 'always';
  const sync = syncPolicy(fsync, listFlag(args, 'sync'));
  const checkpointEvery = intFlag(args, 'checkpoint-every', { min: 0, max: 1e9, fallback: 0 });
  let kv: DurableKv | undefined;
  return serveKv(args, io, {
    async open(logger) {
      const opened = await DurableKv.open(dir, { fsync, sync });
      kv = opened;
      const r = opened.recovery;
      for (const failure of r.snapshotFailures) logger.warn('snapshot refused', { fields: { result: 'refused', file: failure.file, error_code: failure.code } });
      if (r.damage !== null) {
        logger.error('wal tail quarantined', { fields: { result: 'quarantined', error_code: r.damage.code, segment: r.damage.segment, offset: r.damage.offset, bytes: r.damage.bytes, files: r.damage.quarantined.join(',') } });
        io.stderr(`warning[${r.damage.code}]: ${r.damage.error.message}\n`);
      }
      logger.info('wal recovered', { fields: { result: 'recovered', snapshot_lsn: r.snapshotLsn, replayed: r.replayed, lsn: r.appliedLsn, latency_ms: Math.round(r.durationMs * 1000) / 1000 } });
      let writes = 0;
      const store = checkpointEvery === 0 ? opened : {
        // Every N acknowledged writes, checkpoint in the background (never on the ack path).
        async apply(command: Parameters<DurableKv['apply']>[0]) {
          const result = await opened.apply(command);
          if (++writes % checkpointEvery === 0) {
            opened.checkpoint().then(
              (c) => logger.info('checkpoint', { fields: { result: 'checkpoint', lsn: c.lsn, dropped: c.dropped.length } }),
              (e: unknown) => logger.error('checkpoint failed', { fields: { result: 'error', error_code: isCivicError(e) ? e.code : 'unknown' } }),
            );
          }
          return result;
        },
        get: (key: string) => opened.get(key),
      };
      const syncModes = COMMAND_CLASSES.map((c) => `${c}=${describeMode(sync[c])}`).join(',');
      return { store, ready: { lsn: opened.appliedLsn, fsync, sync: syncModes, wal: dir, replayed: r.replayed, damage: r.damage?.code ?? null } };
    },
    async stop(signal) {
      const opened = kv as DurableKv;
      const checkpoint = await opened.checkpoint();
      await opened.close();
      return {
        fields: { lsn: checkpoint.lsn, dropped: checkpoint.dropped.length },
        text: `stopped on ${signal}: checkpoint at lsn ${checkpoint.lsn}`,
      };
    },
  });
}
// #endregion durable-serve

const weekNineServe = KV_COMMANDS.commands.find((c) => c.verb === 'serve') as CommandSpec;

/** Week 9's `kv serve`, plus `--wal`, `--fsync` and `--checkpoint-every`. */
const DURABLE_SERVE: CommandSpec = {
  ...weekNineServe,
  summary: `${weekNineServe.summary}; with --wal, every write is logged and fsynced before it is applied`,
  flags: [
    ...weekNineServe.flags,
    valueFlag('wal', 'DIR', 'keep the state in DIR: a write-ahead log (DIR/wal) and checkpoints (DIR/snapshots); replaces --snapshot-dir'),
    valueFlag('fsync', 'POLICY', 'with --wal: always (fdatasync per write), group (writers share one fdatasync), none (UNSAFE: acked writes die with the kernel) (default always)'),
    { ...SYNC_FLAG, help: `with --wal: ${SYNC_FLAG.help}` },
    valueFlag('checkpoint-every', 'N', 'with --wal: checkpoint after every N acknowledged writes (default 0: only on stop)'),
  ],
  details: `${weekNineServe.details ?? ''}\nWith --wal DIR: at start the newest good snapshot is loaded and the log replayed after it; a torn\ntail is moved to DIR/wal/quarantine/ and reported (warning[E_WAL_TORN] on stderr, a log record); a corrupt\nrecord before it stops the server with E_WAL_CORRUPT (exit 8), nothing moved: see wal repair.\nA write is answered only after its log record is durable under --fsync. On SIGTERM a checkpoint is written.`,
  run(args, io) {
    if (stringFlag(args, 'wal') === undefined) {
      if (stringFlag(args, 'fsync') !== undefined || listFlag(args, 'sync').length > 0) throw usage('E_USAGE_VALUE', 'Cannot use --fsync or --sync without --wal: give the log directory');
      return weekNineServe.run(args, io);
    }
    if (stringFlag(args, 'snapshot-dir') !== undefined) throw usage('E_USAGE_VALUE', 'Cannot use --snapshot-dir with --wal: checkpoints live in the --wal directory');
    return runDurableServe(args, io);
  },
};

/** Week 9's `kv` group with `serve` taking `--wal DIR --fsync POLICY`. */
export const DURABLE_KV_COMMANDS: CommandGroup = {
  ...KV_COMMANDS,
  commands: KV_COMMANDS.commands.map((c) => (c.verb === 'serve' ? DURABLE_SERVE : c)),
};

/** Refuses a path that is not an existing directory, with week 1's path codes. */
async function existingDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (info === null) throw usage('E_PATH_NOT_FOUND', `Cannot open ${dir}: no such directory; give the directory of an existing log or --wal store`);
  if (!info.isDirectory()) throw usage('E_PATH_NOT_FOUND', `Cannot open ${dir}: it is not a directory; give the directory of an existing log or --wal store`);
}

/**
 * `wal repair DIR --truncate-at LSN`: the operator's cut after E_WAL_CORRUPT. Every record from
 * LSN on is copied into quarantine/ (fsynced), then cut from the live log.
 */
async function runRepair(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const dir = args.positionals[0] as string;
  await existingDir(dir);
  const lsn = intFlag(args, 'truncate-at', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
  if (lsn === 0) throw usage('E_USAGE_MISSING', 'wal repair needs --truncate-at LSN: the first record to cut (the one E_WAL_CORRUPT names)');
  const walDir = (await readdir(dir)).some((n) => n === 'wal') ? join(dir, 'wal') : dir;
  const cut = await repairWal(walDir, lsn);
  io.stdout(args.flags.json === true ? `${JSON.stringify(cut)}\n`
    : `cut at lsn ${cut.lsn} (${cut.segment} offset ${cut.offset}): ${cut.bytes} B quarantined to ${cut.quarantined.join(', ')}\n`);
  return EXIT.ok;
}

/** `wal inspect DIR`: scans every segment read-only and prints what replay would do. */
async function runInspect(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const dir = args.positionals[0] as string;
  const walDir = (await readdir(dir)).some((n) => n === 'wal') ? join(dir, 'wal') : dir;
  const names = (await readdir(walDir)).filter((n) => segmentFirstLsn(n) !== null).sort();
  const rows: { segment: string; first: number; records: number; bytes: number; damage: string | null }[] = [];
  let bad = false;
  for (const name of names) {
    const bytes = new Uint8Array(await readFile(join(walDir, name)));
    const scan = scanWal(bytes, segmentFirstLsn(name) as number);
    const damage = scan.damage === null ? null : `${scan.damage.kind === 'torn' ? 'E_WAL_TORN' : 'E_WAL_CORRUPT'} at ${scan.damage.at}: ${scan.damage.reason}`;
    if (damage !== null) bad = true;
    rows.push({ segment: name, first: segmentFirstLsn(name) as number, records: scan.records.length, bytes: bytes.length, damage });
  }
  const quarantined = await readdir(join(walDir, QUARANTINE_DIR)).catch(() => [] as string[]);
  if (args.flags.json === true) {
    io.stdout(`${JSON.stringify({ dir: walDir, segments: rows, quarantine: quarantined })}\n`);
  } else {
    for (const r of rows) io.stdout(`${r.segment}  lsn ${r.first}..${r.first + r.records - 1}  ${r.records} record(s)  ${r.bytes} B  ${r.damage ?? 'ok'}\n`);
    io.stdout(`quarantine: ${quarantined.length === 0 ? 'empty' : quarantined.join(', ')}\n`);
  }
  return bad ? EXIT.integrity : EXIT.ok;
}

/**
 * `wal recover DIR`: opens a --wal store (the real recovery: snapshot, replay, quarantine) and
 * reports, with the CPU time the process spent on it beside the wall time: on a shared machine
 * the wall time grows with everyone else's load, the CPU time hardly at all.
 */
async function runRecover(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const dir = args.positionals[0] as string;
  await existingDir(dir); // recovery never creates what it was asked to recover
  const cpu = process.cpuUsage();
  const kv = await DurableKv.open(dir, { fsync: 'always' });
  const used = process.cpuUsage(cpu);
  const r = kv.recovery;
  await kv.close();
  const report = {
    snapshot_lsn: r.snapshotLsn, replayed: r.replayed, lsn: r.appliedLsn, recovery_ms: Math.round(r.durationMs * 10) / 10,
    cpu_ms: Math.round((used.user + used.system) / 1000), damage: r.damage?.code ?? null, quarantined: r.damage?.quarantined ?? [],
  };
  if (r.damage !== null) io.stderr(`warning[${r.damage.code}]: ${r.damage.error.message}\n`);
  io.stdout(args.flags.json === true ? `${JSON.stringify(report)}\n`
    : `recovered lsn ${report.lsn}: snapshot at ${report.snapshot_lsn}, ${report.replayed} record(s) replayed in ${report.recovery_ms} ms (cpu ${report.cpu_ms} ms)${r.damage === null ? '' : `, ${r.damage.code}: ${r.damage.bytes} B quarantined`}\n`);
  return EXIT.ok;
}

/** A stretch of time, in `performance.now()` milliseconds. */
export interface Span {
  /** When it began. */
  readonly start: number;
  /** When it ended. */
  readonly end: number;
}

/**
 * Runs `work` and returns it with the garbage-collection pauses that happened meanwhile
 * (Node's `gc` performance entries), so a table can say which slow operations sat through one.
 */
async function withGcPauses<T>(work: () => Promise<T>): Promise<{ readonly result: T; readonly pauses: readonly Span[] }> {
  const pauses: Span[] = [];
  const keep = (entries: readonly { startTime: number; duration: number }[]): void => {
    for (const e of entries) pauses.push({ start: e.startTime, end: e.startTime + e.duration });
  };
  const observer = new PerformanceObserver((list) => keep(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  try {
    const result = await work();
    keep(observer.takeRecords());
    return { result, pauses };
  } finally {
    observer.disconnect();
  }
}

/**
 * How many of the slowest 1 % of `puts` (at least one) overlapped any of `pauses`.
 * @param puts - each put's start and end
 * @param pauses - garbage-collection pauses over the same clock
 * @returns how many puts the slowest 1 % holds, and how many of them overlapped a pause
 */
export function slowestInPauses(puts: readonly Span[], pauses: readonly Span[]): { readonly slowest: number; readonly inGc: number } {
  const slowest = [...puts].sort((a, b) => (b.end - b.start) - (a.end - a.start)).slice(0, Math.max(1, Math.ceil(puts.length / 100)));
  const inGc = slowest.filter((put) => pauses.some((gc) => gc.start < put.end && gc.end > put.start)).length;
  return { slowest: slowest.length, inGc };
}

/** The bench's i-th command of a class: a put of a fresh key, a create-only compare-and-set, or a delete (of a key never written: logged all the same). */
function benchCommand(cls: CommandClass, id: string, i: number, value: string): KvCommand {
  if (cls === 'delete') return { op: 'delete', request_id: id, key: `k${i}` };
  return cls === 'cas' ? { op: 'put', request_id: id, key: `k${i}`, value, if_version: 0 } : { op: 'put', request_id: id, key: `k${i}`, value };
}

/** `wal bench DIR`: durable puts of 100-byte values per policy and writer count. */
async function runBench(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const dir = args.positionals[0] as string;
  const count = intFlag(args, 'count', { min: 1, max: 10_000_000, fallback: 2000 });
  const writersList = listFlag(args, 'writers').map(Number);
  const writerCounts = writersList.length === 0 ? [1, 64] : writersList;
  const named = choiceListFlag(args, 'fsync', FSYNC_POLICIES);
  const policies = named.length === 0 ? FSYNC_POLICIES : named;
  const cls = choiceFlag(args, 'class', COMMAND_CLASSES) ?? 'put';
  const rules = listFlag(args, 'sync');
  const value = 'v'.repeat(100);
  for (const fsync of policies) {
    const sync = syncPolicy(fsync, rules);
    for (const writers of writerCounts) {
      if (!Number.isSafeInteger(writers) || writers < 1) throw usage('E_USAGE_VALUE', `Cannot bench: --writers takes positive integers, got ${writers}`);
      const kv = await DurableKv.open(join(dir, `bench-${fsync}-${writers}-${count}`), { fsync, sync });
      const base = kv.appliedLsn;
      const puts: Span[] = [];
      let next = 0;
      const started = performance.now();
      const { pauses } = await withGcPauses(() => Promise.all(Array.from({ length: writers }, async () => {
        while (next < count) {
          const i = next++;
          const start = performance.now();
          await kv.apply(benchCommand(cls, `b${base}-${i}`, i, value));
          puts.push({ start, end: performance.now() });
        }
      })));
      const seconds = (performance.now() - started) / 1000;
      const stats = kv.walStats;
      await kv.close();
      const latencies = puts.map((p) => p.end - p.start).sort((a, b) => a - b);
      const slow = slowestInPauses(puts, pauses);
      const longestGc = pauses.reduce((most, gc) => Math.max(most, gc.end - gc.start), 0);
      const pct = (p: number): number => Math.round((latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? 0) * 1000) / 1000;
      const row = {
        fsync, class: cls, sync: describeMode(sync[cls]), writers, puts: count, puts_per_s: Math.round(count / seconds), p50_ms: pct(50), p99_ms: pct(99), fdatasyncs: stats.syncs,
        puts_per_fdatasync: stats.syncs === 0 ? null : Math.round((count / stats.syncs) * 10) / 10,
        gc_pauses: pauses.length, gc_longest_ms: Math.round(longestGc * 100) / 100, slowest_1pct: slow.slowest, slowest_1pct_in_gc: slow.inGc,
      };
      io.stdout(args.flags.json === true ? `${JSON.stringify(row)}\n`
        : `${fsync.padEnd(6)} writers ${String(writers).padStart(3)}  ${String(row.puts_per_s).padStart(7)} puts/s  p50 ${row.p50_ms} ms  p99 ${row.p99_ms} ms  fdatasyncs ${row.fdatasyncs}  puts/fdatasync ${row.puts_per_fdatasync ?? '-'}`
          + `  gc ${row.gc_pauses} (longest ${row.gc_longest_ms} ms)  slowest 1% in gc ${slow.inGc}/${slow.slowest}\n`);
    }
  }
  return EXIT.ok;
}

/** `wal policy`: the sync policy that `--fsync` and `--sync` rules make, validated, one class per line. */
async function runPolicy(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const fsync = choiceFlag(args, 'fsync', FSYNC_POLICIES) ?? 'always';
  const sync = syncPolicy(fsync, listFlag(args, 'sync'));
  for (const cls of COMMAND_CLASSES) {
    const mode = sync[cls];
    const ack = mode.kind === 'sync' ? 'after its fsync' : mode.kind === 'interval' ? `once written, fsync within ${mode.ms} ms` : 'once written, fsync whenever the next one runs';
    const row = { class: cls, mode: describeMode(mode), critical: CRITICAL_CLASSES.includes(cls), acknowledged: ack };
    io.stdout(args.flags.json === true ? `${JSON.stringify(row)}\n`
      : `${cls.padEnd(7)}${row.mode.padEnd(13)}${(row.critical ? 'critical' : '').padEnd(10)}acknowledged ${ack}\n`);
  }
  return EXIT.ok;
}

/** The `wal` command group: inspect a log, measure the fsync policies. */
export const WAL_COMMANDS: CommandGroup = {
  noun: 'wal',
  summary: 'The write-ahead log: inspect a log directory, measure durability against latency',
  commands: [
    {
      verb: 'inspect', summary: 'Scan a WAL (or a --wal store directory) read-only: segments, records, damage, quarantine',
      operands: 'DIR', arity: { min: 1, max: 1 }, flags: [JSON_FLAG],
      details: 'Changes nothing (replay at open is what quarantines). Exits 8 when a segment is damaged.',
      run: runInspect,
    },
    {
      verb: 'recover', summary: 'Open a --wal store directory as the server would: load the snapshot, replay, quarantine a torn tail',
      operands: 'DIR', arity: { min: 1, max: 1 }, flags: [JSON_FLAG],
      details: [
        'Prints the LSN reached, the records replayed and the time it took (the restart time behind the RTO).',
        'A torn tail is quarantined (warning, exit 0); a corrupt record is refused with E_WAL_CORRUPT (exit 8), nothing moved.',
        'DIR must exist: recovery never creates what it was asked to recover.',
      ].join('\n'),
      run: runRecover,
    },
    {
      verb: 'repair', summary: 'Cut a damaged log at a record: everything from --truncate-at LSN on is quarantined, then removed',
      operands: 'DIR', arity: { min: 1, max: 1 }, flags: [valueFlag('truncate-at', 'LSN', 'the first record to cut (the LSN E_WAL_CORRUPT names)', true), JSON_FLAG],
      details: [
        'Replay never cuts a corrupt record on its own: the store refuses to start with E_WAL_CORRUPT.',
        'Restore the log from a peer or a snapshot if you can; this cut drops acknowledged records.',
        'The cut bytes are kept under quarantine/ (fsynced before anything is removed).',
      ].join('\n'),
      run: runRepair,
    },
    {
      verb: 'bench', summary: 'Durable 100-byte puts per fsync policy and writer count, into fresh stores under DIR',
      operands: 'DIR', arity: { min: 1, max: 1 },
      flags: [
        valueFlag('count', 'N', 'puts per row (default 2000)'),
        { name: 'writers', type: 'string', multiple: true, value: 'N', help: 'concurrent writers (default 1 and 64)' },
        { name: 'fsync', type: 'string', multiple: true, value: 'POLICY', help: 'policies: always, group, none (default all three)' },
        valueFlag('class', 'CLASS', 'what each command is: put (default), cas (a create-only put with if_version 0) or delete'),
        SYNC_FLAG,
        JSON_FLAG,
      ],
      details: [
        'DIR decides the disk: on tmpfs fdatasync is free and the table means nothing.',
        'Each row also counts the garbage-collection pauses during it, the longest, and how many of',
        'the slowest 1 % of puts overlapped one: when that is all of them, the tail is the collector, not the disk.',
      ].join('\n'),
      run: runBench,
    },
    {
      verb: 'policy', summary: 'Print the sync policy that --fsync and --sync rules make: when each class of command is acknowledged',
      operands: '', arity: { min: 0, max: 0 },
      flags: [valueFlag('fsync', 'POLICY', 'always, group or none (default always)'), SYNC_FLAG, JSON_FLAG],
      details: [
        'Classes: put (a put without if_version), delete (without if_version), cas (any command with if_version).',
        'delete and cas are critical: a rule relaxing them is refused with E_WAL_POLICY (exit 2).',
      ].join('\n'),
      run: runPolicy,
    },
  ],
};

/** Week 10's CLI as a whole (the week-local entry point `node_main.ts` runs it). */
export const WEEK10_CLI: CliSpec = {
  name: 'civictrust',
  version: 'week-10',
  groups: [LOG_COMMANDS, DURABLE_KV_COMMANDS, WAL_COMMANDS],
  catalog: WAL_CLI_CATALOG,
};
