/**
 * The `kv` command group: `civictrust kv serve` runs the signed KV server as a process
 * (restoring the newest good snapshot at start, writing one on SIGTERM after the
 * drain); `kv put` and `kv del` sign one command with a key directory and send it;
 * `kv get` reads a key unsigned. Flag names follow `node run` and `node send`:
 * `--keys DIR` for the key directory, `--key NAME` for the signing key.
 *
 * A refused command prints the server's answer, then `error[CODE]` with the exit
 * status of that code: a missing key exits 4, a stale `--if-version` exits 1, a
 * reused request id or a bad command exits 3, a signature refusal exits 8.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { EXIT, CivicError, LOG_ERRORS, errorFactory, isCivicError, mergeCatalogs, type ExitCode } from '../../lib/errors.ts';
import { LOG_COMMANDS, choiceFlag, intFlag, stringFlag, type CliIo, type CliSpec, type CommandArgs, type CommandGroup, type FlagSpec } from '../../lib/cli.ts';
import { FRAME_ERRORS, connectError, createLogger, firstSignal, formatAddress, openLog, type LogFields, type Logger } from '../../lib/framing.ts';
import { HASH_ERRORS } from '../../lib/hashing.ts';
import { LOG_LEVELS } from '../../lib/logger.ts';
import { EnvelopeVerifier, NODE_BACKEND, NonceCache, SIGN_ERRORS, encodeSignedMessage, loadKeyRing, loadSigner, signEnvelope } from '../../lib/signing.ts';
import { KV_ERRORS } from './catalog.ts';
import { kvRequestProblem, type KvCommand, type KvRequest } from './command.ts';
import { KvServer, sendKvFrame } from './node_kv_server.ts';
import { listSnapshots, loadNewestSnapshot, writeSnapshot } from './node_snapshot_dir.ts';
import { KV_MSG_TYPE, kvPayload, type KvReply } from './protocol.ts';
import { KvStateMachine, readSnapshotHeader } from './state_machine.ts';
import { MemoryKvStore, type KvStore } from './store.ts';

const usage = errorFactory(LOG_ERRORS);
const fail = errorFactory(KV_ERRORS);
/** Every code a `kv` command or a KV server's answer can carry. */
const KV_CLI_CATALOG = mergeCatalogs(LOG_ERRORS, FRAME_ERRORS, HASH_ERRORS, SIGN_ERRORS, KV_ERRORS);

function valueFlag(name: string, value: string, help: string, required = false): FlagSpec {
  return { name, type: 'string', value, help, ...(required ? { required } : {}) };
}
const JSON_FLAG: FlagSpec = { name: 'json', type: 'boolean', help: 'print one JSON object per line' };
const PORT_FLAG = valueFlag('port', 'N', 'the KV server\'s port', true);
const HOST_FLAG = valueFlag('host', 'HOST', 'the KV server\'s address (default 127.0.0.1)');
const WAIT_FLAG = valueFlag('wait-ms', 'MS', 'how long to wait for the answer (default 30000)');
const SIGNED_FLAGS: readonly FlagSpec[] = [
  valueFlag('keys', 'DIR', 'the key directory holding NAME\'s private key (mode 0600)', true),
  valueFlag('key', 'NAME', 'the key name; its current version signs', true),
  PORT_FLAG,
  HOST_FLAG,
  valueFlag('request-id', 'ID', 'the request id; reuse one only to retry the very same command (default: a fresh one)'),
  valueFlag('if-version', 'N', 'apply only when the key is at version N (0 = never written)'),
  WAIT_FLAG,
  JSON_FLAG,
];

// #region serve
/**
 * What one flavour of `kv serve` brings to {@link serveKv}: how its store opens, and what
 * it does once the server has drained. Week 9's in-memory store and week 10's WAL-backed
 * one share everything else: flags, log, keys, the signed server, signals and the drain.
 */
export interface KvServeVariant {
  /** Opens the store, logging what it restored. */
  open(logger: Logger): Promise<KvServeOpened>;
  /** Persists and closes the store once no write can reach it any more. */
  stop(signal: string): Promise<KvServeStopped>;
}

/** What {@link KvServeVariant.open} hands back. */
export interface KvServeOpened {
  /** The store the server applies signed commands to. */
  readonly store: KvStore;
  /** Fields the ready line (after `pid`) and its `kv server ready` log record carry. */
  readonly ready: LogFields;
}

/** What {@link KvServeVariant.stop} hands back. */
export interface KvServeStopped {
  /** Fields the stopped line (after `stopped`) and its `kv server stopped` log record carry. */
  readonly fields: LogFields;
  /** The stopped line without `--json`. */
  readonly text: string;
}

/**
 * Runs a signed KV server until SIGINT or SIGTERM: keys loaded, store opened, address
 * printed (`listening HOST:PORT`, or one JSON line with `--json`); on the signal, drains
 * the connections, lets the variant persist, prints the stopped line and exits 0.
 */
export async function serveKv(args: CommandArgs, io: CliIo, variant: KvServeVariant): Promise<ExitCode> {
  const json = args.flags.json === true;
  const graceMs = intFlag(args, 'grace-ms', { min: 0, max: 600_000, fallback: 5000 });
  const log = await openLog(stringFlag(args, 'log'), io);
  const logger = createLogger({ clock: io.clock, ids: io.ids, sink: log.sink, fields: { node_id: stringFlag(args, 'node-id') ?? 'kv-1' }, minLevel: choiceFlag(args, 'log-level', LOG_LEVELS) ?? 'info' });
  const stop = firstSignal();
  let server: KvServer;
  let ready: LogFields;
  try {
    const keys = await loadKeyRing(stringFlag(args, 'keys') as string, NODE_BACKEND);
    const opened = await variant.open(logger);
    ready = opened.ready;
    const verifier = new EnvelopeVerifier({ keys, replay: new NonceCache(), clock: io.clock });
    server = await KvServer.start({
      store: opened.store, verifier, logger,
      host: stringFlag(args, 'host') ?? '127.0.0.1',
      port: intFlag(args, 'port', { min: 0, max: 65535, fallback: 0 }),
    });
  } catch (error) {
    logger.error('kv server failed to start', { fields: { result: 'error', error_code: isCivicError(error) ? error.code : 'unknown' } });
    stop.cancel();
    await log.close();
    throw error;
  }
  const address = { host: stringFlag(args, 'host') ?? '127.0.0.1', port: server.port };
  logger.info('kv server ready', { fields: { result: 'listening', address: formatAddress(address), ...ready } });
  io.stdout(json
    ? `${JSON.stringify({ listening: formatAddress(address), host: address.host, port: address.port, pid: process.pid, ...ready })}\n`
    : `listening ${formatAddress(address)}\n`);

  const signal = await stop.signal;
  const cut = await server.close({ graceMs }); // after this no write can reach the store
  const end = await variant.stop(signal);
  logger.info('kv server stopped', { fields: { result: 'stopped', signal, ...end.fields, connections_cut: cut } });
  io.stdout(json ? `${JSON.stringify({ stopped: signal, ...end.fields, connections_cut: cut })}\n` : `${end.text}\n`);
  await log.close();
  return EXIT.ok;
}

/** Runs `kv serve`: the in-memory store, restored from the newest good snapshot and snapshotted again on the way out. */
function runServe(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const snapshotDir = stringFlag(args, 'snapshot-dir');
  let store: MemoryKvStore | undefined;
  return serveKv(args, io, {
    async open(logger) {
      let machine = new KvStateMachine();
      let restoredFrom: string | null = null;
      if (snapshotDir !== undefined) {
        await mkdir(snapshotDir, { recursive: true });
        const restored = await restoreNewest(snapshotDir, logger);
        if (restored !== undefined) {
          machine = restored.machine;
          restoredFrom = restored.file;
        }
      }
      store = new MemoryKvStore(machine);
      return { store, ready: { lsn: machine.stats.appliedLsn, keys: machine.stats.keys, snapshot: restoredFrom } };
    },
    async stop(signal) {
      const opened = store as MemoryKvStore;
      let written: string | null = null;
      if (snapshotDir !== undefined) {
        const bytes = opened.snapshot();
        written = await writeSnapshot(snapshotDir, bytes, readSnapshotHeader(bytes).lsn);
      }
      const end = opened.machine.stats;
      return {
        fields: { lsn: end.appliedLsn, keys: end.keys, snapshot: written },
        text: `stopped on ${signal}: lsn ${end.appliedLsn}, ${end.keys} key(s)${written === null ? '' : `, snapshot ${written}`}`,
      };
    },
  });
}

/**
 * The newest good snapshot of `dir`, each refused newer file logged with its code; undefined
 * when the directory holds no snapshot file at all.
 * @throws CivicError `E_SNAPSHOT_NONE` when files exist and every one is refused: starting
 *   empty then would silently serve a state that forgot acknowledged writes
 */
async function restoreNewest(dir: string, logger: Logger): Promise<{ machine: KvStateMachine; file: string } | undefined> {
  if ((await listSnapshots(dir)).length === 0) {
    logger.info('no snapshot, starting empty', { fields: { result: 'empty', dir } });
    return undefined;
  }
  try {
    const loaded = await loadNewestSnapshot(dir);
    for (const failure of loaded.failures) {
      logger.warn('snapshot refused', { fields: { result: 'refused', file: failure.file, error_code: failure.code, message: failure.message } });
    }
    logger.info('snapshot loaded', { fields: { result: 'loaded', file: loaded.file, lsn: loaded.machine.appliedLsn, keys: loaded.machine.stats.keys } });
    return loaded;
  } catch (error) {
    logger.error('no usable snapshot', { fields: { result: 'refused', error_code: isCivicError(error) ? error.code : 'unknown' } });
    throw error;
  }
}
// #endregion serve

// #region client
/** Sends one frame and waits for the answer, with a deadline and coded network errors. */
async function exchange(args: CommandArgs, frame: Uint8Array): Promise<KvReply> {
  const port = intFlag(args, 'port', { min: 1, max: 65535, fallback: 0 });
  if (port === 0) throw usage('E_USAGE_VALUE', 'Cannot send: give the KV server\'s --port');
  const host = stringFlag(args, 'host') ?? '127.0.0.1';
  const waitMs = intFlag(args, 'wait-ms', { min: 1, max: 3_600_000, fallback: 30_000 });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CivicError('E_NET_TIMEOUT', `Cannot complete KV request: no answer from ${host}:${port} within ${waitMs} ms`, { definite: false })), waitMs);
  });
  try {
    return await Promise.race([sendKvFrame(port, frame, host), late]);
  } catch (error) {
    throw connectError(error, { host, port }, 'connect');
  } finally {
    clearTimeout(timer);
  }
}

/** Prints the answer; a refusal becomes `error[CODE]` with its catalog exit status. */
function report(reply: KvReply, io: CliIo, json: boolean): ExitCode {
  if (json) io.stdout(`${JSON.stringify(reply)}\n`);
  if (!reply.ok) {
    const spec = KV_CLI_CATALOG[reply.code];
    if (!json) io.stdout(`refused ${'op' in reply ? reply.op : 'command'} ${'key' in reply && reply.key !== null ? reply.key : ''} ${reply.code}\n`.replace('  ', ' '));
    throw new CivicError(reply.code, reply.message, { definite: spec?.definite ?? false });
  }
  if (!json) {
    const value = 'value' in reply ? ` value=${JSON.stringify(reply.value)}` : '';
    const lsn = 'lsn' in reply ? ` lsn=${reply.lsn}` : '';
    const hash = 'value_hash' in reply ? ` value_hash=${reply.value_hash}` : '';
    io.stdout(`ok ${reply.op} ${reply.key} version=${reply.version} term=${reply.term}${lsn}${value}${hash}\n`);
  }
  return EXIT.ok;
}

/** Signs `command` with the current version of `--key` and sends it. */
async function sendSigned(args: CommandArgs, io: CliIo, command: KvCommand): Promise<ExitCode> {
  const signer = await loadSigner(stringFlag(args, 'keys') as string, stringFlag(args, 'key') as string, NODE_BACKEND, io.clock);
  const payload = kvPayload(command);
  const envelope = await signEnvelope({ msgType: KV_MSG_TYPE, requestId: command.request_id, payload }, signer, { clock: io.clock });
  return report(await exchange(args, encodeSignedMessage(envelope, payload)), io, args.flags.json === true);
}

/** The mutation fields every signed command shares. */
function mutation(args: CommandArgs, io: CliIo): { request_id: string; key: string; if_version?: number } {
  const ifVersion = stringFlag(args, 'if-version') === undefined ? undefined : intFlag(args, 'if-version', { min: 0, max: Number.MAX_SAFE_INTEGER, fallback: 0 });
  return { request_id: stringFlag(args, 'request-id') ?? io.ids.next(), key: args.positionals[0] as string, ...(ifVersion === undefined ? {} : { if_version: ifVersion }) };
}
// #endregion client

/** Checks a command before signing it, so a bad key is refused here with the server's own code. */
function checked<T extends KvRequest>(request: T): T {
  const problem = kvRequestProblem(request);
  if (problem !== undefined) throw fail('E_KV_COMMAND_INVALID', `Cannot send KV command: ${problem}`);
  return request;
}

/** The `kv` command group: serve, put, get, del. */
export const KV_COMMANDS: CommandGroup = {
  noun: 'kv',
  summary: 'The signed KV state machine: serve it, and put, get or delete keys against a running server',
  commands: [
    {
      verb: 'serve',
      summary: 'Serve the KV state machine until SIGINT or SIGTERM; signed writes only, unsigned reads',
      operands: '',
      arity: { min: 0, max: 0 },
      flags: [
        valueFlag('keys', 'DIR', 'the trusted keys: a key directory or its keyring.json (private keys are never read)', true),
        valueFlag('host', 'HOST', 'the address to bind (default 127.0.0.1)'),
        valueFlag('port', 'N', 'the port; 0 picks a free one (default 0)'),
        valueFlag('snapshot-dir', 'DIR', 'restore the newest good snapshot from DIR at start, write one there on stop (default: memory only)'),
        valueFlag('grace-ms', 'MS', 'on SIGTERM, how long started answers may take before connections are cut (default 5000)'),
        valueFlag('log', 'PATH', 'append JSON-lines records to PATH (default stderr)'),
        valueFlag('log-level', 'LEVEL', `lowest level logged: ${LOG_LEVELS.join(', ')} (default info)`),
        valueFlag('node-id', 'ID', 'node_id on every record (default kv-1)'),
        JSON_FLAG,
      ],
      details: [
        'A put or delete must arrive as a signed envelope v1 (msg_type kv) whose request_id equals',
        'the command\'s; unsigned writes are answered E_SIG_MISSING and never applied. A get may',
        'arrive unsigned. Writes are applied one at a time in arrival order.',
        'At start, each snapshot file that fails its checks is logged ("snapshot refused", with',
        'error_code) and the previous one is tried; when files exist and none passes, the server',
        'refuses to start (E_SNAPSHOT_NONE, exit 4). On SIGTERM it stops taking requests, finishes',
        'the ones started, writes snapshot-<lsn>.ctkv (temp file, fsync, rename, directory fsync)',
        'and exits 0. Prints "listening HOST:PORT" (JSON with --json) once ready.',
      ].join('\n'),
      run: runServe,
    },
    {
      verb: 'put',
      summary: 'Sign and send put KEY VALUE; print the new version, term and value hash',
      operands: 'KEY VALUE',
      arity: { min: 2, max: 2 },
      flags: SIGNED_FLAGS,
      details: [
        'A retry with the same --request-id and the same KEY VALUE gets the first answer again and',
        'changes nothing; the same id with another command is refused (E_KV_REQUEST_ID_REUSED, exit 3).',
        'A stale --if-version is refused (E_KV_VERSION_CONFLICT, exit 1) and remembered under its id.',
      ].join('\n'),
      async run(args, io): Promise<ExitCode> {
        return sendSigned(args, io, checked({ op: 'put', ...mutation(args, io), value: args.positionals[1] as string }));
      },
    },
    {
      verb: 'get',
      summary: 'Read KEY (unsigned): print its value, version, term and value hash',
      operands: 'KEY',
      arity: { min: 1, max: 1 },
      flags: [PORT_FLAG, HOST_FLAG, WAIT_FLAG, JSON_FLAG],
      details: 'A key never written or deleted is E_KV_NOT_FOUND (exit 4); the answer still carries its version.',
      async run(args, io): Promise<ExitCode> {
        const request = checked({ op: 'get' as const, key: args.positionals[0] as string });
        return report(await exchange(args, kvPayload(request)), io, args.flags.json === true);
      },
    },
    {
      verb: 'del',
      summary: 'Sign and send delete KEY; the key keeps its version (a tombstone) and the delete raises it',
      operands: 'KEY',
      arity: { min: 1, max: 1 },
      flags: SIGNED_FLAGS,
      details: 'Deleting a key with no value is E_KV_NOT_FOUND (exit 4) and changes nothing.',
      async run(args, io): Promise<ExitCode> {
        return sendSigned(args, io, checked({ op: 'delete', ...mutation(args, io) }));
      },
    },
  ],
};

/** Week 9's CLI: week 1's log commands plus `kv`. */
export const WEEK9_CLI: CliSpec = {
  name: 'civictrust',
  version: 'week-09',
  groups: [LOG_COMMANDS, KV_COMMANDS],
  catalog: KV_CLI_CATALOG,
};
