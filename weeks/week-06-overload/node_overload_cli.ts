/**
 * `civictrust overload serve|load`: the overload server as a command, and an open-loop
 * load generator to push it through its ladder. Run both in two terminals and watch the
 * server's `ladder changed` records appear as the load passes its capacity, and the load
 * generator's lines turn from `ok` to `shed` and `overloaded`.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { EXIT, LOG_ERRORS, errorFactory, mergeCatalogs, type ExitCode } from '../../lib/errors.ts';
import { LOG_COMMANDS, choiceFlag, intFlag, stringFlag, type CliIo, type CliSpec, type CommandArgs, type CommandGroup, type FlagSpec } from '../../lib/cli.ts';
import { LOG_LEVELS } from '../../lib/logger.ts';
import { FRAME_ERRORS, createLogger, firstSignal, formatAddress, openLog } from '../../lib/framing.ts';
import { POOL_ERRORS, WorkerPool } from '../../lib/pool.ts';
import { SERVER_ERRORS } from '../../lib/server.ts';
import { OVERLOAD_ERRORS } from './catalog.ts';
import { parseStageSplit, type StageSplit } from './deadline.ts';
import { OVERLOAD_THRESHOLDS, checkThresholds, type OverloadThresholds } from './ladder.ts';
import { runTaskLoad, type LoadInterval } from './node_load.ts';
import { DEFAULT_EGRESS_LIMITS, OVERLOAD_SERVER_DEFAULTS, OverloadServer, type ClientRate, type OverloadServerOptions } from './node_overload_server.ts';
import { TASK_HANDLERS } from './node_tasks.ts';
import { DEFAULT_PROGRESS_RULE } from './progress.ts';
import { TASK_NAMES } from './task_message.ts';
import { DEFAULT_EGRESS_RATE } from './token_bucket.ts';

const usage = errorFactory(LOG_ERRORS);
const DAY_MS = 86_400_000;
const GIB = 1024 * 1024 * 1024;

/** A flag taking a value. */
function valueFlag(name: string, value: string, help: string): FlagSpec {
  return { name, type: 'string', value, help };
}

/** Reads `--thresholds PATH` (a JSON file shaped like the table), or the built-in table. */
async function thresholdsOf(args: CommandArgs): Promise<OverloadThresholds> {
  const path = stringFlag(args, 'thresholds');
  if (path === undefined) return OVERLOAD_THRESHOLDS;
  let table: OverloadThresholds;
  try {
    table = JSON.parse(await readFile(path, 'utf8')) as OverloadThresholds;
    checkThresholds(table);
  } catch (error) {
    throw usage('E_USAGE_VALUE', `Cannot use --thresholds ${path}: ${(error as Error).message}`);
  }
  return table;
}

/** Reads `--stage-split admission=A,queue=Q,pool=P,reply=R` (percentages adding up to 100), if given. */
function stageSplitOf(args: CommandArgs): StageSplit | undefined {
  const text = stringFlag(args, 'stage-split');
  if (text === undefined) return undefined;
  try {
    return parseStageSplit(text);
  } catch (error) {
    throw usage('E_USAGE_VALUE', `Cannot use --stage-split ${text}: ${(error as Error).message}`);
  }
}

/** Reads `--client-rate N` and `--client-burst N`: undefined (no per-client limit) when the rate is 0 or absent. */
function clientRateOf(args: CommandArgs): ClientRate | undefined {
  const perSec = intFlag(args, 'client-rate', { min: 0, max: 1_000_000, fallback: 0 });
  if (perSec === 0) return undefined;
  return { perSec, burst: intFlag(args, 'client-burst', { min: 1, max: 1_000_000, fallback: perSec }) };
}

// #region serve-command
/**
 * Runs `overload serve` until SIGINT or SIGTERM. `overrides` replace options the flags
 * set: the gate's negative controls use it to start a server broken on purpose.
 */
export async function runOverloadServeCommand(args: CommandArgs, io: CliIo, overrides: Partial<OverloadServerOptions> = {}): Promise<ExitCode> {
  const workers = intFlag(args, 'workers', { min: 1, max: 64, fallback: 2 });
  const thresholds = await thresholdsOf(args);
  const maxFrameBytes = intFlag(args, 'max-frame-bytes', { min: 1024, max: 16 * 1024 * 1024, fallback: OVERLOAD_SERVER_DEFAULTS.maxFrameBytes });
  const options = {
    host: stringFlag(args, 'host') ?? '127.0.0.1',
    port: intFlag(args, 'port', { min: 0, max: 65535, fallback: 0 }),
    concurrency: workers,
    thresholds,
    maxFrameBytes,
    maxClients: intFlag(args, 'max-clients', { min: 1, max: 1_000_000, fallback: OVERLOAD_SERVER_DEFAULTS.maxClients }),
    progress: {
      windowMs: intFlag(args, 'window-ms', { min: 1, max: DAY_MS, fallback: DEFAULT_PROGRESS_RULE.windowMs }),
      minBytes: intFlag(args, 'min-progress-bytes', { min: 0, max: GIB, fallback: DEFAULT_PROGRESS_RULE.minBytes }),
    },
    egressRate: {
      ratePerSec: intFlag(args, 'egress-rate', { min: 1, max: 1024 * GIB, fallback: DEFAULT_EGRESS_RATE.ratePerSec }),
      burstBytes: intFlag(args, 'egress-burst', { min: 1, max: 1024 * GIB, fallback: DEFAULT_EGRESS_RATE.burstBytes }),
    },
    egressLimits: {
      lowWatermarkBytes: intFlag(args, 'low-watermark-bytes', { min: 1, max: 1024 * GIB, fallback: DEFAULT_EGRESS_LIMITS.lowWatermarkBytes }),
      maxEgressBytes: intFlag(args, 'max-egress-bytes', { min: 1, max: 1024 * GIB, fallback: DEFAULT_EGRESS_LIMITS.maxEgressBytes }),
      noDrainMs: intFlag(args, 'no-drain-ms', { min: 1, max: DAY_MS, fallback: DEFAULT_EGRESS_LIMITS.noDrainMs }),
    },
    maxInFlight: intFlag(args, 'max-in-flight', { min: 1, max: 1_000_000, fallback: OVERLOAD_SERVER_DEFAULTS.maxInFlight }),
    idleMs: intFlag(args, 'idle-timeout-ms', { min: 1, max: DAY_MS, fallback: OVERLOAD_SERVER_DEFAULTS.idleMs }),
    statsIntervalMs: intFlag(args, 'stats-interval-ms', { min: 0, max: DAY_MS, fallback: 1000 }),
    stageSplit: stageSplitOf(args),
    clientRate: clientRateOf(args),
  };
  if (options.egressLimits.maxEgressBytes < maxFrameBytes + 1024) {
    // A cap below one whole reply would cut a client that did nothing wrong.
    throw usage('E_USAGE_VALUE', `Cannot use --max-egress-bytes ${options.egressLimits.maxEgressBytes}: it must hold one whole reply of ${maxFrameBytes + 1024} bytes (--max-frame-bytes + 1024)`);
  }
  const graceMs = intFlag(args, 'grace-ms', { min: 0, max: 600_000, fallback: 5000 });
  const minLevel = choiceFlag(args, 'log-level', LOG_LEVELS) ?? 'info';
  const log = await openLog(stringFlag(args, 'log'), io);
  const logger = createLogger({ clock: io.clock, ids: io.ids, sink: log.sink, fields: { node_id: stringFlag(args, 'node-id') ?? 'overload-server' }, minLevel });
  const stop = firstSignal();
  let pool: WorkerPool | undefined;
  let server: OverloadServer | undefined;
  try {
    // The controller hands the pool at most `workers` tasks at once; its own queue only absorbs a hand-over.
    pool = await WorkerPool.start({ workers, maxQueue: workers * 2, taskBudgetMs: 30_000, handlers: TASK_HANDLERS });
    server = await OverloadServer.listen({ ...options, runner: pool, logger, ...overrides });
  } catch (error) {
    logger.error('server failed to start', { fields: { result: 'error', error_code: (error as { code?: string }).code } });
    await pool?.close();
    stop.cancel();
    await log.close();
    throw error;
  }
  const address = server.address;
  io.stdout(args.flags.json === true
    ? `${JSON.stringify({ listening: formatAddress(address), host: address.host, port: address.port, pid: process.pid, workers, thresholds })}\n`
    : `listening ${formatAddress(address)}\n`);
  const signal = await stop.signal;
  await server.close({ reason: signal.toLowerCase(), graceMs });
  await pool.close();
  await log.close();
  return EXIT.ok;
}
// #endregion serve-command

/** One interval as a line a person can follow. */
function intervalLine(i: LoadInterval): string {
  const ms = (v: number | null) => (v === null ? '-' : `${v.toFixed(1)}ms`);
  const codes = Object.entries(i.codes).map(([code, n]) => `${code}=${n}`).join(' ');
  return `${i.endS.toFixed(1).padStart(6)}s ${i.phase.padEnd(9)} sent ${String(i.sent).padStart(5)}  ok ${String(i.ok).padStart(5)} (${i.throughputPerSec.toFixed(0)}/s)  p50 ${ms(i.p50Ms)} p95 ${ms(i.p95Ms)} p99 ${ms(i.p99Ms)}  ${codes}`.trimEnd();
}

/** Runs `overload load`. */
async function runLoad(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const port = intFlag(args, 'port', { min: 1, max: 65535, fallback: 0 });
  if (port === 0) throw usage('E_USAGE_VALUE', 'Cannot run load: give the server\'s --port');
  const seconds = intFlag(args, 'seconds', { min: 1, max: 3600, fallback: 5 });
  const rate = intFlag(args, 'rate', { min: 1, max: 1_000_000, fallback: 100 });
  const overloadRate = intFlag(args, 'overload-rate', { min: 0, max: 1_000_000, fallback: 0 });
  const phases = [{ name: 'normal', ratePerSec: rate, seconds }];
  if (overloadRate > 0) phases.push({ name: 'overload', ratePerSec: overloadRate, seconds }, { name: 'recovery', ratePerSec: rate, seconds });
  const json = args.flags.json === true;
  const seed = intFlag(args, 'seed', { min: 0, max: 0xffff_ffff, fallback: 6 });
  io.stderr(`load: seed ${seed}\n`);
  const report = await runTaskLoad({
    port,
    host: stringFlag(args, 'host') ?? '127.0.0.1',
    clients: intFlag(args, 'clients', { min: 1, max: 10_000, fallback: 4 }),
    phases,
    task: choiceFlag(args, 'task', TASK_NAMES) ?? 'spin',
    arg: intFlag(args, 'arg', { min: 0, max: 16 * 1024 * 1024, fallback: 5 }),
    highShare: intFlag(args, 'high-percent', { min: 0, max: 100, fallback: 50 }) / 100,
    timeoutMs: intFlag(args, 'timeout-ms', { min: 0, max: 3_600_000, fallback: 1000 }),
    intervalMs: intFlag(args, 'interval-ms', { min: 100, max: 60_000, fallback: 1000 }),
    seed,
    onInterval: (interval) => (json ? io.stderr(`${intervalLine(interval)}\n`) : io.stdout(`${intervalLine(interval)}\n`)),
  });
  if (json) io.stdout(`${JSON.stringify(report)}\n`);
  else {
    for (const p of report.phases) {
      const codes = Object.entries(p.codes).map(([code, n]) => `${code}=${n}`).join(' ');
      io.stdout(`${p.name}: ${p.ratePerSec}/s offered, ${p.ok}/${p.sent} ok (${p.throughputPerSec}/s), p50 ${p.p50Ms ?? '-'} ms, p95 ${p.p95Ms ?? '-'} ms, p99 ${p.p99Ms ?? '-'} ms, error rate ${(p.errorRate * 100).toFixed(2)} %${codes === '' ? '' : ` (${codes})`}\n`);
    }
  }
  return EXIT.ok;
}

// #region overload-commands
/** The `overload` command group: serve, load. */
export const OVERLOAD_COMMANDS: CommandGroup = {
  noun: 'overload',
  summary: 'Overload control: a task server with a load ladder, deadlines and slow-client defences, and a load generator',
  commands: [
    {
      verb: 'serve',
      summary: 'Serve task requests on worker threads under the overload ladder until SIGINT or SIGTERM',
      operands: '',
      arity: { min: 0, max: 0 },
      flags: [
        { name: 'host', type: 'string', value: 'HOST', help: 'the address (default 127.0.0.1)' },
        { name: 'port', short: 'p', type: 'string', value: 'N', help: 'the TCP port; 0 picks a free one (default 0)' },
        valueFlag('workers', 'N', 'worker threads for the tasks (default 2)'),
        valueFlag('thresholds', 'PATH', 'a JSON threshold table shaped like the built-in one (default: the built-in table)'),
        valueFlag('max-clients', 'N', `server.maxConnections; Node drops connections past it (default ${OVERLOAD_SERVER_DEFAULTS.maxClients})`),
        valueFlag('max-frame-bytes', 'N', `largest request payload and fill reply (default ${OVERLOAD_SERVER_DEFAULTS.maxFrameBytes})`),
        valueFlag('window-ms', 'MS', `minimum-progress window (default ${DEFAULT_PROGRESS_RULE.windowMs})`),
        valueFlag('min-progress-bytes', 'N', `bytes of an open frame a client must send per window; 0 turns the rule off (default ${DEFAULT_PROGRESS_RULE.minBytes})`),
        valueFlag('egress-rate', 'BYTES/S', `per-client reply rate (default ${DEFAULT_EGRESS_RATE.ratePerSec})`),
        valueFlag('egress-burst', 'N', `per-client burst cap (default ${DEFAULT_EGRESS_RATE.burstBytes})`),
        valueFlag('client-rate', 'N', 'requests a second each client may send; past it they are refused with E_CLIENT_THROTTLED; 0 for no limit (default 0)'),
        valueFlag('client-burst', 'N', 'requests a client may send at once within its --client-rate (default: the rate)'),
        valueFlag('low-watermark-bytes', 'N', `stop reading a client with this many reply bytes waiting (default ${DEFAULT_EGRESS_LIMITS.lowWatermarkBytes})`),
        valueFlag('max-egress-bytes', 'N', `cut a client rather than hold more reply bytes for it (default ${DEFAULT_EGRESS_LIMITS.maxEgressBytes})`),
        valueFlag('no-drain-ms', 'MS', `cut a client whose socket sends no 'drain' this long (default ${DEFAULT_EGRESS_LIMITS.noDrainMs})`),
        valueFlag('max-in-flight', 'N', `admitted, unanswered requests per client before its reading pauses (default ${OVERLOAD_SERVER_DEFAULTS.maxInFlight})`),
        valueFlag('idle-timeout-ms', 'MS', `close a connection silent this long between frames (default ${OVERLOAD_SERVER_DEFAULTS.idleMs})`),
        valueFlag('stage-split', 'SHARES', 'share each request\'s budget over its stages, e.g. admission=10,queue=40,pool=40,reply=10 (percent, 100 in all); each stage drops a request once its share has run out (default: every stage checks the whole deadline)'),
        valueFlag('grace-ms', 'MS', 'on SIGINT/SIGTERM, time for admitted work to finish (default 5000)'),
        valueFlag('stats-interval-ms', 'MS', 'log a "server stats" record this often; 0 for never (default 1000)'),
        { name: 'node-id', type: 'string', value: 'ID', help: 'the node_id field of every log record (default overload-server)' },
        { name: 'log', type: 'string', value: 'PATH', help: 'append JSON-lines log records to PATH instead of stderr' },
        { name: 'log-level', type: 'string', value: 'LEVEL', help: `lowest level logged: ${LOG_LEVELS.join(', ')} (default info)` },
        { name: 'json', type: 'boolean', help: 'print the listening address, pid, workers and thresholds as one JSON object' },
      ],
      details: [
        'Prints "listening HOST:PORT" once bound. Each request frame carries task, arg, priority',
        'and timeout_ms; its deadline starts with its first byte. The ladder (normal, shed,',
        'reject) follows the waiting-queue depth and the oldest wait, and logs "ladder changed"',
        'records: under shed, low-priority requests get E_SHED_LOW_PRIORITY; under reject, all',
        'get E_OVERLOADED; both carry retry_after_ms. Expired work is dropped with a "request',
        'dropped" record naming its stage. Slow senders and non-readers are cut with E_SLOW_CLIENT.',
      ].join('\n'),
      run: (args, io) => runOverloadServeCommand(args, io),
    },
    {
      verb: 'load',
      summary: 'Send open-loop task load to a server and print throughput, latency and errors per interval',
      operands: '',
      arity: { min: 0, max: 0 },
      flags: [
        { name: 'host', type: 'string', value: 'HOST', help: 'the server address (default 127.0.0.1)' },
        { name: 'port', short: 'p', type: 'string', value: 'N', required: true, help: 'the server port' },
        valueFlag('clients', 'N', 'connections to spread the load over (default 4)'),
        valueFlag('rate', 'N', 'requests per second in the normal phase (default 100)'),
        valueFlag('overload-rate', 'N', 'if set, a second phase at this rate, then a recovery phase at --rate'),
        valueFlag('seconds', 'N', 'length of each phase (default 5)'),
        valueFlag('task', 'NAME', `${TASK_NAMES.join(', ')} (default spin)`),
        valueFlag('arg', 'N', 'the task size: rounds, ms or bytes (default 5)'),
        valueFlag('high-percent', 'N', 'share of requests sent high priority, 0-100 (default 50)'),
        valueFlag('timeout-ms', 'MS', 'each request\'s timeout_ms (default 1000)'),
        valueFlag('interval-ms', 'MS', 'reporting interval (default 1000)'),
        valueFlag('seed', 'N', 'seeds the priority draw (default 6)'),
        { name: 'json', type: 'boolean', help: 'print the whole report as one JSON object (interval lines go to stderr)' },
      ],
      details: 'Prints one line per interval, then one summary line per phase. Exit 0 once the run ends.',
      run: (args, io) => runLoad(args, io),
    },
  ],
};
// #endregion overload-commands

/** Week 6's CLI on its own: the `log` and `overload` groups and the catalogs they use (`node_main.ts` runs it). */
export const WEEK6_CLI: CliSpec = {
  name: 'civictrust',
  version: 'week-06',
  groups: [LOG_COMMANDS, OVERLOAD_COMMANDS],
  catalog: mergeCatalogs(LOG_ERRORS, FRAME_ERRORS, SERVER_ERRORS, POOL_ERRORS, OVERLOAD_ERRORS),
};
