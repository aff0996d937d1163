/**
 * `civictrust echo serve|send`: the command group of week 2, on top of the echo
 * server and client. The server prints its bound address on stdout (data a script
 * can read), logs JSON lines to stderr or `--log PATH`, and stops cleanly on SIGINT
 * or SIGTERM. The client prints the echoed body and logs each attempt.
 * @module
 */
import { EXIT, errorFactory, mergeCatalogs, type ExitCode } from '../../lib/errors.ts';
import { LOG_ERRORS } from '../../lib/errors.ts';
import { LOG_COMMANDS, choiceFlag, intFlag, stringFlag, type CliIo, type CliSpec, type CommandArgs, type CommandGroup, type FlagSpec } from '../../lib/cli.ts';
import { readAllCapped } from '../../lib/bytes.ts';
import { FRAME_ERRORS } from './catalog.ts';
import { DEFAULT_MAX_FRAME_BYTES } from './frame.ts';
import { isRequestId } from './message.ts';
import { formatAddress } from './net_errors.ts';
import { EchoServer } from './node_echo_server.ts';
import { sendEcho } from './node_echo_client.ts';
import { openFileSink } from './node_log_sink.ts';
import { DEFAULT_RETRY_POLICY } from './retry.ts';
import { LOG_LEVELS } from '../../lib/logger.ts';
import { createLogger, textSink, type LogSink, type Logger } from './structured_log.ts';
import { DEFAULT_TIMEOUT_POLICY } from './timeouts.ts';

const usage = errorFactory(LOG_ERRORS);

/** The largest `--max-frame-bytes` the CLI accepts: 64 MiB. */
const MAX_FRAME_FLAG = 64 * 1024 * 1024;

const HOST: FlagSpec = { name: 'host', type: 'string', value: 'HOST', help: 'the address (default 127.0.0.1)' };
const MAX_FRAME: FlagSpec = {
  name: 'max-frame-bytes', type: 'string', value: 'N',
  help: `largest frame payload (default ${DEFAULT_MAX_FRAME_BYTES}, at most ${MAX_FRAME_FLAG})`,
};
const NODE_ID: FlagSpec = { name: 'node-id', type: 'string', value: 'ID', help: 'the node_id field of every log record' };
const LOG: FlagSpec = { name: 'log', type: 'string', value: 'PATH', help: 'append JSON-lines log records to PATH instead of stderr' };
const LOG_LEVEL: FlagSpec = { name: 'log-level', type: 'string', value: 'LEVEL', help: `lowest level logged: ${LOG_LEVELS.join(', ')} (default info)` };
const JSON_OUT: FlagSpec = { name: 'json', type: 'boolean', help: 'print the result as one JSON object' };

function maxFrameOf(args: CommandArgs): number {
  return intFlag(args, 'max-frame-bytes', { min: 1, max: MAX_FRAME_FLAG, fallback: DEFAULT_MAX_FRAME_BYTES });
}

/** A log destination opened by {@link openLog}. */
export interface OpenedLog {
  /** Give it to the logger. */
  readonly sink: LogSink;
  /** Flushes and closes the destination. */
  close(): Promise<void>;
}

/** The first SIGINT or SIGTERM, as a promise. */
export interface FirstSignal {
  /** Resolves to the signal's name, e.g. `SIGTERM`. */
  readonly signal: Promise<string>;
  /** Stops listening (when the server failed to start). */
  cancel(): void;
}

/**
 * Where a server's log records go: JSON lines on stderr (no path, or `-`), or a file
 * shared with other writers through O_APPEND.
 */
export async function openLog(path: string | undefined, io: CliIo): Promise<OpenedLog> {
  if (path === undefined || path === '-') return { sink: textSink((text) => io.stderr(text)), close: async () => {} };
  return openFileSink(path);
}

function loggerOf(args: CommandArgs, io: CliIo, sink: LogSink, nodeId: string): Logger {
  const minLevel = choiceFlag(args, 'log-level', LOG_LEVELS) ?? 'info';
  return createLogger({ clock: io.clock, ids: io.ids, sink, fields: { node_id: nodeId }, minLevel });
}

/** The first SIGINT or SIGTERM; a second one gets Node's default (immediate exit). */
export function firstSignal(): FirstSignal {
  let cancel = () => {};
  const signal = new Promise<string>((resolve) => {
    const onSignal = (name: string) => {
      cancel();
      resolve(name);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    cancel = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  });
  return { signal, cancel: () => cancel() };
}

// #region serve-command
async function serveCommand(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const host = stringFlag(args, 'host') ?? '127.0.0.1';
  const port = intFlag(args, 'port', { min: 0, max: 65535, fallback: 0 });
  const maxFrameBytes = maxFrameOf(args);
  const timeouts = {
    idleMs: intFlag(args, 'idle-timeout-ms', { min: 1, max: 86_400_000, fallback: DEFAULT_TIMEOUT_POLICY.idleMs }),
    readMs: intFlag(args, 'read-timeout-ms', { min: 1, max: 86_400_000, fallback: DEFAULT_TIMEOUT_POLICY.readMs }),
  };
  const graceMs = intFlag(args, 'grace-ms', { min: 0, max: 600_000, fallback: 5000 });
  const log = await openLog(stringFlag(args, 'log'), io);
  const logger = loggerOf(args, io, log.sink, stringFlag(args, 'node-id') ?? 'echo-server');
  const stop = firstSignal(); // listening for signals before the port is bound: none is missed
  let server: EchoServer;
  try {
    server = await EchoServer.listen({ host, port, maxFrameBytes, timeouts, logger });
  } catch (error) {
    logger.error('server failed to start', { fields: { result: 'error', error_code: (error as { code?: string }).code } });
    stop.cancel();
    await log.close();
    throw error;
  }
  const address = server.address;
  io.stdout(args.flags.json === true
    ? `${JSON.stringify({ listening: formatAddress(address), host: address.host, port: address.port })}\n`
    : `listening ${formatAddress(address)}\n`);
  const signal = await stop.signal;
  await server.close({ reason: signal.toLowerCase(), graceMs });
  if (logger.dropped > 0) logger.warn('log records dropped', { fields: { result: 'dropped', dropped: logger.dropped } });
  await log.close();
  return EXIT.ok;
}
// #endregion serve-command

/** Reads the request body from stdin, refusing more than `maxBytes` as soon as it is seen. */
function readBody(io: CliIo, maxBytes: number): Promise<Uint8Array> {
  return readAllCapped(io.stdin(), maxBytes,
    () => errorFactory(FRAME_ERRORS)('E_FRAME_OVERSIZE', `Cannot send echo: stdin holds more than max ${maxBytes} bytes`));
}

// #region send-command
async function sendCommand(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const fromStdin = args.flags.stdin === true;
  if (fromStdin === (args.positionals.length > 0)) {
    throw usage(fromStdin ? 'E_USAGE_EXTRA' : 'E_USAGE_MISSING', 'Cannot run "echo send": give a MESSAGE or --stdin, one of the two');
  }
  const requestId = stringFlag(args, 'request-id');
  if (requestId !== undefined && !isRequestId(requestId)) {
    throw usage('E_USAGE_VALUE', `Cannot use --request-id ${requestId}: expected 1-128 characters of A-Z a-z 0-9 . _ : -`);
  }
  const maxFrameBytes = maxFrameOf(args);
  const retry = {
    ...DEFAULT_RETRY_POLICY,
    maxAttempts: intFlag(args, 'attempts', { min: 1, max: 100, fallback: DEFAULT_RETRY_POLICY.maxAttempts }),
    maxTotalMs: intFlag(args, 'budget-ms', { min: 1, max: 600_000, fallback: DEFAULT_RETRY_POLICY.maxTotalMs }),
  };
  const options = {
    host: stringFlag(args, 'host') ?? '127.0.0.1',
    port: intFlag(args, 'port', { min: 1, max: 65535, fallback: 0 }),
    maxFrameBytes,
    connectTimeoutMs: intFlag(args, 'connect-timeout-ms', { min: 1, max: 600_000, fallback: 1000 }),
    replyTimeoutMs: intFlag(args, 'timeout-ms', { min: 1, max: 600_000, fallback: 5000 }),
    retry,
    ids: io.ids,
    // Echo is idempotent, so the CLI says so unless told otherwise; the library has no default.
    idempotent: (choiceFlag(args, 'idempotent', ['yes', 'no']) ?? 'yes') === 'yes',
    ...(requestId === undefined ? {} : { requestId }),
  };
  const body = fromStdin ? await readBody(io, maxFrameBytes) : new TextEncoder().encode(args.positionals[0] as string);
  const log = await openLog(stringFlag(args, 'log'), io);
  const logger = loggerOf(args, io, log.sink, stringFlag(args, 'node-id') ?? 'echo-client');
  try {
    const reply = await sendEcho(body, { ...options, logger });
    const text = new TextDecoder().decode(reply.body);
    io.stdout(args.flags.json === true
      ? `${JSON.stringify({ request_id: reply.requestId, attempts: reply.attempts, latency_ms: reply.latencyMs, bytes: reply.body.length, body: text })}\n`
      : `${text}\n`);
    return EXIT.ok;
  } finally {
    await log.close();
  }
}
// #endregion send-command

// #region echo-commands
/** The `echo` command group: serve, send. */
export const ECHO_COMMANDS: CommandGroup = {
  noun: 'echo',
  summary: 'Run a TCP echo server that speaks length-prefixed frames, or send it a message',
  commands: [
    {
      verb: 'serve',
      summary: 'Listen for framed echo requests until SIGINT or SIGTERM',
      operands: '',
      arity: { min: 0, max: 0 },
      flags: [
        HOST,
        { name: 'port', short: 'p', type: 'string', value: 'N', help: 'the TCP port; 0 picks a free one (default 0)' },
        MAX_FRAME,
        { name: 'idle-timeout-ms', type: 'string', value: 'MS', help: `close a connection silent this long (default ${DEFAULT_TIMEOUT_POLICY.idleMs})` },
        { name: 'read-timeout-ms', type: 'string', value: 'MS', help: `close a connection whose frame takes longer (default ${DEFAULT_TIMEOUT_POLICY.readMs})` },
        { name: 'grace-ms', type: 'string', value: 'MS', help: 'on SIGINT/SIGTERM, time for frames in flight to finish (default 5000)' },
        NODE_ID, LOG, LOG_LEVEL, JSON_OUT,
      ],
      details: [
        'Prints "listening HOST:PORT" on stdout once bound. Startup failures exit with',
        'E_NET_ADDR_IN_USE (7), E_NET_PERMISSION (5) or E_NET_BAD_ADDRESS (2). On SIGINT or',
        'SIGTERM it stops accepting, lets frames in flight finish within --grace-ms, and',
        'exits 0; a second signal ends it at once.',
      ].join('\n'),
      run: serveCommand,
    },
    {
      verb: 'send',
      summary: 'Send one framed message and print the echo',
      operands: '[MESSAGE]',
      arity: { min: 0, max: 1 },
      flags: [
        HOST,
        { name: 'port', short: 'p', type: 'string', value: 'N', required: true, help: 'the server\'s TCP port' },
        { name: 'stdin', type: 'boolean', help: 'read the message from stdin instead of MESSAGE' },
        { name: 'request-id', type: 'string', value: 'ID', help: 'the request id (default: a fresh UUID)' },
        { name: 'idempotent', type: 'string', value: 'yes|no', help: 'may an unclear failure be retried? (default yes: echo is idempotent)' },
        { name: 'attempts', type: 'string', value: 'N', help: `attempts in all (default ${DEFAULT_RETRY_POLICY.maxAttempts})` },
        { name: 'budget-ms', type: 'string', value: 'MS', help: `no retry may start past this time (default ${DEFAULT_RETRY_POLICY.maxTotalMs})` },
        { name: 'connect-timeout-ms', type: 'string', value: 'MS', help: 'per attempt (default 1000)' },
        { name: 'timeout-ms', type: 'string', value: 'MS', help: 'wait this long for each reply (default 5000)' },
        MAX_FRAME, NODE_ID, LOG, LOG_LEVEL, JSON_OUT,
      ],
      details: [
        'Retries with exponential backoff and full jitter while attempts and budget last,',
        'but only a definite failure (connection refused: nothing was sent) or, with',
        '--idempotent yes, an unclear one (reset, timeout). Protocol errors are never',
        'retried. Exit 7 when the server cannot be reached, 3 or 8 for a bad reply.',
      ].join('\n'),
      run: sendCommand,
    },
  ],
};
// #endregion echo-commands

/** Week 2's CLI on its own: the `log` and `echo` groups and both weeks' catalogs (`node_main.ts` runs it). */
export const WEEK2_CLI: CliSpec = {
  name: 'civictrust',
  version: 'week-02',
  groups: [LOG_COMMANDS, ECHO_COMMANDS],
  catalog: mergeCatalogs(LOG_ERRORS, FRAME_ERRORS),
};
