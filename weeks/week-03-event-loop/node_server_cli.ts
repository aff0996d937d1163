/**
 * `civictrust server run`: the multi-client frame server as a command. It prints its
 * bound address on stdout (`listening HOST:PORT`), logs JSON lines to stderr or
 * `--log PATH` (a `server stats` record every `--stats-interval-ms`), and on SIGINT or
 * SIGTERM stops accepting, drains, closes and exits 0.
 * @module
 */
import { EXIT, LOG_ERRORS, errorFactory, mergeCatalogs, type ExitCode } from '../../lib/errors.ts';
import { LOG_COMMANDS, choiceFlag, intFlag, stringFlag, type CliIo, type CliSpec, type CommandArgs, type CommandGroup, type FlagSpec } from '../../lib/cli.ts';
import { LOG_LEVELS } from '../../lib/logger.ts';
import {
  DEFAULT_MAX_FRAME_BYTES, DEFAULT_TIMEOUT_POLICY, ECHO_COMMANDS, FRAME_ERRORS, FRAME_HEADER_BYTES,
  createLogger, firstSignal, formatAddress, openLog, type Logger,
} from '../../lib/framing.ts';
import { SERVER_ERRORS } from './catalog.ts';
import { DEFAULT_OUTBOUND_LIMITS } from './connection.ts';
import { FRAME_SERVER_DEFAULTS, FrameServer } from './node_frame_server.ts';

const usage = errorFactory(LOG_ERRORS);

/** The largest `--max-frame-bytes` the CLI accepts: 64 MiB. */
const MAX_FRAME_FLAG = 64 * 1024 * 1024;
/** The largest byte limit the CLI accepts: 1 GiB. */
const MAX_BYTES_FLAG = 1024 * 1024 * 1024;
const DAY_MS = 86_400_000;


// #region run-options
/** Reads and cross-checks the limits; every refusal is `E_USAGE_VALUE` (exit 2). */
function limitsOf(args: CommandArgs) {
  const maxFrameBytes = intFlag(args, 'max-frame-bytes', { min: 1, max: MAX_FRAME_FLAG, fallback: DEFAULT_MAX_FRAME_BYTES });
  const maxOutboundBytes = intFlag(args, 'max-outbound-bytes', { min: 1, max: MAX_BYTES_FLAG, fallback: DEFAULT_OUTBOUND_LIMITS.maxOutboundBytes });
  const lowWatermarkBytes = intFlag(args, 'low-watermark-bytes', { min: 1, max: MAX_BYTES_FLAG, fallback: Math.min(DEFAULT_OUTBOUND_LIMITS.lowWatermarkBytes, maxOutboundBytes) });
  const largestReply = maxFrameBytes + FRAME_HEADER_BYTES;
  if (maxOutboundBytes < largestReply) {
    // A cap below one whole reply would cut a client that did nothing wrong.
    throw usage('E_USAGE_VALUE', `Cannot use --max-outbound-bytes ${maxOutboundBytes}: it must hold one whole reply of ${largestReply} bytes (--max-frame-bytes + ${FRAME_HEADER_BYTES})`);
  }
  if (lowWatermarkBytes > maxOutboundBytes) {
    throw usage('E_USAGE_VALUE', `Cannot use --low-watermark-bytes ${lowWatermarkBytes}: it must not exceed --max-outbound-bytes ${maxOutboundBytes}`);
  }
  return { maxFrameBytes, limits: { lowWatermarkBytes, maxOutboundBytes } };
}
// #endregion run-options

// #region run-command
/**
 * Something a later week starts beside the running server (week 4's `/healthz`
 * endpoint, for one). It is started once the server is bound, described in the
 * `--json` line, and closed after the server has drained.
 */
export interface ServerSidecar {
  /** Facts added to the `--json` listening line, e.g. `{ health: 'http://…/healthz' }`. */
  readonly describe?: Readonly<Record<string, string | number>>;
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts a {@link ServerSidecar} for a bound server, or nothing. */
export type AttachSidecar = (server: FrameServer, logger: Logger) => Promise<ServerSidecar | undefined>;

/**
 * Runs `server run` to completion: binds, prints the address, serves until SIGINT or
 * SIGTERM, drains, exits 0. Later weeks wrap it, passing `attach` to run more beside
 * the server, instead of copying it.
 */
export async function runFrameServerCommand(args: CommandArgs, io: CliIo, attach?: AttachSidecar): Promise<ExitCode> {
  const { maxFrameBytes, limits } = limitsOf(args);
  const options = {
    host: stringFlag(args, 'host') ?? '127.0.0.1',
    port: intFlag(args, 'port', { min: 0, max: 65535, fallback: 0 }),
    maxFrameBytes,
    limits,
    maxClients: intFlag(args, 'max-clients', { min: 1, max: 1_000_000, fallback: FRAME_SERVER_DEFAULTS.maxClients }),
    slowReaderMs: intFlag(args, 'slow-reader-ms', { min: 1, max: DAY_MS, fallback: FRAME_SERVER_DEFAULTS.slowReaderMs }),
    timeouts: {
      idleMs: intFlag(args, 'idle-timeout-ms', { min: 1, max: DAY_MS, fallback: DEFAULT_TIMEOUT_POLICY.idleMs }),
      readMs: intFlag(args, 'read-timeout-ms', { min: 1, max: DAY_MS, fallback: DEFAULT_TIMEOUT_POLICY.readMs }),
    },
    statsIntervalMs: intFlag(args, 'stats-interval-ms', { min: 0, max: DAY_MS, fallback: 10_000 }),
  };
  const graceMs = intFlag(args, 'grace-ms', { min: 0, max: 600_000, fallback: 5000 });
  const minLevel = choiceFlag(args, 'log-level', LOG_LEVELS) ?? 'info';
  const log = await openLog(stringFlag(args, 'log'), io);
  const logger = createLogger({ clock: io.clock, ids: io.ids, sink: log.sink, fields: { node_id: stringFlag(args, 'node-id') ?? 'frame-server' }, minLevel });
  const stop = firstSignal(); // listening for signals before the port is bound: none is missed
  let server: FrameServer | undefined;
  let sidecar: ServerSidecar | undefined;
  try {
    server = await FrameServer.listen({ ...options, logger });
    sidecar = await attach?.(server, logger);
  } catch (error) {
    logger.error('server failed to start', { fields: { result: 'error', error_code: (error as { code?: string }).code } });
    await server?.close({ reason: 'startup_failed', graceMs: 0 });
    stop.cancel();
    await log.close();
    throw error;
  }
  const address = server.address;
  io.stdout(args.flags.json === true
    ? `${JSON.stringify({ listening: formatAddress(address), host: address.host, port: address.port, pid: process.pid, ...sidecar?.describe })}\n`
    : `listening ${formatAddress(address)}\n`);
  const signal = await stop.signal;
  await server.close({ reason: signal.toLowerCase(), graceMs });
  await sidecar?.close();
  await log.close();
  return EXIT.ok;
}
// #endregion run-command

/** A flag taking a whole number. */
function numberFlag(name: string, value: string, help: string): FlagSpec {
  return { name, type: 'string', value, help };
}

// #region server-commands
/** The `server` command group: run. */
export const SERVER_COMMANDS: CommandGroup = {
  noun: 'server',
  summary: 'Run the multi-client frame server: one event loop, bounded buffers per client',
  commands: [
    {
      verb: 'run',
      summary: 'Serve framed echo requests to many clients until SIGINT or SIGTERM',
      operands: '',
      arity: { min: 0, max: 0 },
      flags: [
        { name: 'host', type: 'string', value: 'HOST', help: 'the address (default 127.0.0.1)' },
        { name: 'port', short: 'p', type: 'string', value: 'N', help: 'the TCP port; 0 picks a free one (default 0)' },
        numberFlag('max-clients', 'N', `clients served at once; one more gets E_SERVER_BUSY (default ${FRAME_SERVER_DEFAULTS.maxClients})`),
        numberFlag('max-frame-bytes', 'N', `largest frame payload (default ${DEFAULT_MAX_FRAME_BYTES}, at most ${MAX_FRAME_FLAG})`),
        numberFlag('low-watermark-bytes', 'N', `stop reading a client whose reply queue reaches N bytes, until it drains (default ${DEFAULT_OUTBOUND_LIMITS.lowWatermarkBytes})`),
        numberFlag('max-outbound-bytes', 'N', `cut a client rather than queue more than N reply bytes for it (default ${DEFAULT_OUTBOUND_LIMITS.maxOutboundBytes})`),
        numberFlag('slow-reader-ms', 'MS', `cut a client whose reading stays paused this long (default ${FRAME_SERVER_DEFAULTS.slowReaderMs})`),
        numberFlag('idle-timeout-ms', 'MS', `close a connection silent this long (default ${DEFAULT_TIMEOUT_POLICY.idleMs})`),
        numberFlag('read-timeout-ms', 'MS', `close a connection whose frame takes longer (default ${DEFAULT_TIMEOUT_POLICY.readMs})`),
        numberFlag('grace-ms', 'MS', 'on SIGINT/SIGTERM, time for frames in flight to finish (default 5000)'),
        numberFlag('stats-interval-ms', 'MS', 'log a "server stats" record this often; 0 for never (default 10000)'),
        { name: 'node-id', type: 'string', value: 'ID', help: 'the node_id field of every log record (default frame-server)' },
        { name: 'log', type: 'string', value: 'PATH', help: 'append JSON-lines log records to PATH instead of stderr' },
        { name: 'log-level', type: 'string', value: 'LEVEL', help: `lowest level logged: ${LOG_LEVELS.join(', ')} (default info)` },
        { name: 'json', type: 'boolean', help: 'print the listening address (and pid) as one JSON object' },
      ],
      details: [
        'Prints "listening HOST:PORT" on stdout once bound. A client whose reply queue reaches',
        '--low-watermark-bytes is not read until the queue drains; one that stays paused for',
        '--slow-reader-ms, or would need more than --max-outbound-bytes queued, is cut and',
        'logged with reason=slow_reader error_code=E_SERVER_SLOW_READER. Setting the watermark',
        'equal to the cap turns pausing off. Startup failures exit 7 (E_NET_ADDR_IN_USE),',
        '5 (E_NET_PERMISSION) or 2 (E_NET_BAD_ADDRESS, E_USAGE_VALUE). SIGINT or SIGTERM',
        'stops accepting, lets frames in flight finish within --grace-ms, and exits 0.',
      ].join('\n'),
      run: (args, io) => runFrameServerCommand(args, io),
    },
  ],
};
// #endregion server-commands

/** Week 3's CLI on its own: the `log`, `echo` and `server` groups and three weeks' catalogs (`node_main.ts` runs it). */
export const WEEK3_CLI: CliSpec = {
  name: 'civictrust',
  version: 'week-03',
  groups: [LOG_COMMANDS, ECHO_COMMANDS, SERVER_COMMANDS],
  catalog: mergeCatalogs(LOG_ERRORS, FRAME_ERRORS, SERVER_ERRORS),
};
