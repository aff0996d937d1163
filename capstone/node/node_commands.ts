/**
 * The `node` command group: `civictrust node run` serves the month 2 node (signed
 * requests only, under overload control) until SIGINT or SIGTERM; `civictrust node
 * send` signs one task request with a key directory, sends it, and prints the answer
 * or the refusal's code. Its drill flags (`--repeat`, `--tamper`, `--unsigned`,
 * `--skew-ms`) send what an attacker or a broken client would, so each refusal of the
 * node can be seen from the command line.
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';
import { EXIT, CivicError, LOG_ERRORS, errorFactory, mergeCatalogs, type ExitCode } from '../../lib/errors.ts';
import { choiceFlag, intFlag, stringFlag, type CliIo, type CommandArgs, type CommandGroup, type FlagSpec } from '../../lib/cli.ts';
import { FRAME_ERRORS, connectError, createLogger, firstSignal, formatAddress, openLog } from '../../lib/framing.ts';
import { LOG_LEVELS } from '../../lib/logger.ts';
import { HASH_ERRORS, toHex } from '../../lib/hashing.ts';
import { DEFAULT_PROGRESS_RULE, OVERLOAD_ERRORS, OVERLOAD_SERVER_DEFAULTS, TASK_NAMES, TaskClient, type TaskAnswer } from '../../lib/overload.ts';
import { POOL_ERRORS } from '../../lib/pool.ts';
import { SERVER_ERRORS } from '../../lib/server.ts';
import { BACKENDS, DEFAULT_REPLAY_POLICY, SIGN_ERRORS, loadSigner, type BackendName } from '../../lib/signing.ts';
import { SignedNode, nodeUrl } from './signed_node.ts';
import { signTask, signedTaskFrame } from './signed_task.ts';

const usage = errorFactory(LOG_ERRORS);
const DAY_MS = 86_400_000;
const BACKEND_NAMES = Object.keys(BACKENDS) as BackendName[];
/** Every code a node's answer can carry, for the exit status and hint of a refusal. */
const ANSWER_CATALOG = mergeCatalogs(FRAME_ERRORS, SERVER_ERRORS, POOL_ERRORS, OVERLOAD_ERRORS, HASH_ERRORS, SIGN_ERRORS);

function valueFlag(name: string, value: string, help: string, required = false): FlagSpec {
  return { name, type: 'string', value, help, ...(required ? { required } : {}) };
}
const JSON_FLAG: FlagSpec = { name: 'json', type: 'boolean', help: 'print JSON lines' };

/** Reads a whole number that may be negative. */
function signedIntFlag(args: CommandArgs, name: string, limit: number): number {
  const raw = stringFlag(args, name);
  if (raw === undefined) return 0;
  const value = /^-?\d{1,12}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(Math.abs(value) <= limit)) throw usage('E_USAGE_VALUE', `Cannot use --${name} ${raw}: expected a whole number from -${limit} to ${limit}`);
  return value;
}

// #region node-run
/** Runs `node run` until SIGINT or SIGTERM, then drains. */
async function runNode(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const workers = intFlag(args, 'workers', { min: 1, max: 64, fallback: 2 });
  const backendName = choiceFlag(args, 'backend', BACKEND_NAMES) ?? 'webcrypto';
  const healthRaw = stringFlag(args, 'health-port');
  const healthPort = healthRaw === undefined ? undefined : intFlag(args, 'health-port', { min: 0, max: 65535, fallback: 0 });
  const graceMs = intFlag(args, 'grace-ms', { min: 0, max: 600_000, fallback: 5000 });
  const nodeId = stringFlag(args, 'node-id') ?? 'node-1';
  const log = await openLog(stringFlag(args, 'log'), io);
  const logger = createLogger({ clock: io.clock, ids: io.ids, sink: log.sink, fields: { node_id: nodeId }, minLevel: choiceFlag(args, 'log-level', LOG_LEVELS) ?? 'info' });
  const stop = firstSignal();
  let node: SignedNode;
  try {
    node = await SignedNode.start({
      keys: stringFlag(args, 'keys') as string,
      backend: BACKENDS[backendName],
      host: stringFlag(args, 'host') ?? '127.0.0.1',
      port: intFlag(args, 'port', { min: 0, max: 65535, fallback: 0 }),
      healthPort,
      workers,
      dataDir: stringFlag(args, 'data-dir'),
      replay: {
        ...DEFAULT_REPLAY_POLICY,
        maxAgeMs: intFlag(args, 'max-age-ms', { min: 1, max: DAY_MS, fallback: DEFAULT_REPLAY_POLICY.maxAgeMs }),
        maxFutureSkewMs: intFlag(args, 'max-future-ms', { min: 0, max: DAY_MS, fallback: DEFAULT_REPLAY_POLICY.maxFutureSkewMs }),
      },
      progress: {
        windowMs: intFlag(args, 'window-ms', { min: 1, max: DAY_MS, fallback: DEFAULT_PROGRESS_RULE.windowMs }),
        minBytes: intFlag(args, 'min-progress-bytes', { min: 0, max: 1024 * 1024 * 1024, fallback: DEFAULT_PROGRESS_RULE.minBytes }),
      },
      maxClients: intFlag(args, 'max-clients', { min: 1, max: 1_000_000, fallback: OVERLOAD_SERVER_DEFAULTS.maxClients }),
      statsIntervalMs: intFlag(args, 'stats-interval-ms', { min: 0, max: DAY_MS, fallback: 0 }),
      logger,
      ids: io.ids,
    });
  } catch (error) {
    logger.error('node failed to start', { fields: { result: 'error', error_code: (error as { code?: string }).code ?? 'unknown' } });
    stop.cancel();
    await log.close();
    throw error;
  }
  const address = node.address;
  const http = node.httpAddress;
  const keyIds = node.stats().keyIds;
  logger.info('node ready', { fields: { result: 'listening', address: formatAddress(address), backend: backendName, workers, keys: keyIds.length } });
  io.stdout(args.flags.json === true
    ? `${JSON.stringify({
      listening: formatAddress(address), host: address.host, port: address.port, pid: process.pid, node_id: nodeId, backend: backendName, workers, keys: keyIds,
      ...(stringFlag(args, 'data-dir') === undefined ? {} : { data_dir: stringFlag(args, 'data-dir'), nonces: node.stats().nonces }),
      ...(http === undefined ? {} : { health: nodeUrl(http, '/healthz'), metrics: nodeUrl(http, '/metrics') }),
    })}\n`
    : `listening ${formatAddress(address)} (${keyIds.length} trusted key(s), ${backendName} verify, ${workers} workers)${http === undefined ? '' : `; ${nodeUrl(http, '/healthz')} ${nodeUrl(http, '/metrics')}`}\n`);
  const signal = await stop.signal;
  await node.close({ reason: signal.toLowerCase(), graceMs });
  const s = node.stats();
  const summary = { stopped: signal, answered_ok: s.answers.ok, refused: s.answers.refused, curve_checks: s.verifier.curveChecks, completed: s.server.controller.completed };
  io.stdout(args.flags.json === true ? `${JSON.stringify(summary)}\n` : `stopped on ${signal}: ${s.answers.ok} answered, ${Object.values(s.answers.refused).reduce((a, b) => a + b, 0)} refused\n`);
  await log.close();
  return EXIT.ok;
}
// #endregion node-run

/** One answer as a line. */
function answerLine(answer: TaskAnswer, attempt: number, latencyMs: number, json: boolean): string {
  const base = { request_id: answer.requestId, attempt, latency_ms: Math.round(latencyMs * 1000) / 1000 };
  if (answer.type === 'task_reply') {
    return json
      ? `${JSON.stringify({ ...base, ok: true, body_bytes: answer.body.length, body_hex: toHex(answer.body.subarray(0, 64)) })}\n`
      : `reply   ${answer.requestId} #${attempt}  ${answer.body.length} bytes  ${toHex(answer.body.subarray(0, 32))}  ${base.latency_ms} ms\n`;
  }
  const extra = { ...(answer.retryAfterMs === undefined ? {} : { retry_after_ms: answer.retryAfterMs }), ...(answer.stage === undefined ? {} : { stage: answer.stage }) };
  return json
    ? `${JSON.stringify({ ...base, ok: false, error_code: answer.errorCode, ...extra, message: answer.message })}\n`
    : `refused ${answer.requestId} #${attempt}  ${answer.errorCode}${answer.retryAfterMs === undefined ? '' : ` retry_after_ms=${answer.retryAfterMs}`}  ${base.latency_ms} ms\n`;
}

/** Reads a frame written by `node send --save`. */
async function readSaved(path: string): Promise<{ requestId: string; frame: Uint8Array }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw usage('E_USAGE_VALUE', `Cannot use --resend ${path}: ${(error as { code?: string }).code ?? String(error)}`);
  }
  const parsed = JSON.parse(text) as { request_id?: unknown; frame?: unknown };
  if (typeof parsed.request_id !== 'string' || typeof parsed.frame !== 'string') throw usage('E_USAGE_VALUE', `Cannot use --resend ${path}: not a file written by node send --save`);
  return { requestId: parsed.request_id, frame: new Uint8Array(Buffer.from(parsed.frame, 'base64')) };
}

// #region node-send
/** Runs `node send`: sign, optionally spoil, send `--repeat` times, print each answer. */
async function runSend(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const port = intFlag(args, 'port', { min: 1, max: 65535, fallback: 0 });
  if (port === 0) throw usage('E_USAGE_VALUE', 'Cannot send: give the node\'s --port');
  const host = stringFlag(args, 'host') ?? '127.0.0.1';
  const repeat = intFlag(args, 'repeat', { min: 1, max: 1000, fallback: 1 });
  const tamper = choiceFlag(args, 'tamper', ['payload', 'metadata'] as const);
  const skewMs = signedIntFlag(args, 'skew-ms', DAY_MS);
  const json = args.flags.json === true;
  const text = args.positionals[0] ?? '';
  const clock = { now: () => io.clock.now() + skewMs };
  const signer = await loadSigner(stringFlag(args, 'keys') as string, stringFlag(args, 'key') as string, BACKENDS[choiceFlag(args, 'backend', BACKEND_NAMES) ?? 'node'], clock);
  const request = {
    requestId: stringFlag(args, 'request-id') ?? io.ids.next(),
    task: choiceFlag(args, 'task', TASK_NAMES) ?? 'sha256',
    arg: intFlag(args, 'arg', { min: 0, max: 64 * 1024, fallback: 1 }),
    priority: choiceFlag(args, 'priority', ['high', 'low'] as const) ?? 'high',
    timeoutMs: intFlag(args, 'timeout-ms', { min: 0, max: 3_600_000, fallback: 5000 }),
    body: new TextEncoder().encode(text),
  };
  const signed = await signTask(request, signer, { clock });
  let frame = signed.frame;
  const resend = stringFlag(args, 'resend');
  if (resend !== undefined) {
    // A replay drill across restarts: the exact bytes saved by an earlier --save.
    const saved = await readSaved(resend);
    request.requestId = saved.requestId;
    frame = saved.frame;
  }
  if (tamper === 'payload') {
    // The body's last byte changes after signing: the payload no longer hashes to payload_hash.
    const spoiled = signed.payload.slice();
    spoiled[spoiled.length - 1] = ((spoiled[spoiled.length - 1] ?? 0) ^ 0x01) & 0xff;
    frame = signedTaskFrame(signed.envelope, spoiled);
  } else if (tamper === 'metadata') {
    // One millisecond later on the timestamp: still in the window, no longer what was signed.
    const later = new Date(Date.parse(signed.envelope.timestamp) + 1).toISOString();
    frame = signedTaskFrame({ ...signed.envelope, timestamp: later }, signed.payload);
  }
  if (args.flags.unsigned === true) {
    const { signature: _signature, key_id: _keyId, ...unsigned } = signed.envelope;
    frame = signedTaskFrame(unsigned, signed.payload);
  }
  let client: TaskClient;
  try {
    client = await TaskClient.open(port, host);
  } catch (error) {
    throw connectError(error, { host, port }, 'connect');
  }
  const save = stringFlag(args, 'save');
  if (save !== undefined) await writeFile(save, `${JSON.stringify({ request_id: request.requestId, frame: Buffer.from(frame).toString('base64') })}\n`, { mode: 0o600 });
  const waitMs = intFlag(args, 'wait-ms', { min: 1, max: 3_600_000, fallback: 30_000 });
  let first: TaskAnswer | undefined;
  try {
    for (let attempt = 1; attempt <= repeat; attempt += 1) {
      const answered = client.expect(request.requestId, waitMs);
      client.writeRaw(frame); // the same bytes every time: a replay is a byte-for-byte copy
      const { answer, latencyMs } = await answered;
      io.stdout(answerLine(answer, attempt, latencyMs, json));
      if (answer.type === 'error' && first === undefined) first = answer;
    }
  } finally {
    client.close();
  }
  if (first === undefined || first.type !== 'error') return EXIT.ok;
  const spec = ANSWER_CATALOG[first.errorCode];
  throw new CivicError(first.errorCode, `Cannot complete request ${request.requestId}: the node refused it: ${first.message}`, { definite: spec?.definite ?? false });
}
// #endregion node-send

/** The `node` command group. */
export const NODE_COMMANDS: CommandGroup = {
  noun: 'node',
  summary: 'The month 2 CivicTrust node: signed requests only, under overload control, with /healthz and /metrics',
  commands: [
    {
      verb: 'run',
      summary: 'Serve signed task requests on worker threads under the overload ladder until SIGINT or SIGTERM, then drain',
      operands: '',
      arity: { min: 0, max: 0 },
      flags: [
        valueFlag('keys', 'DIR', 'the trusted keys: a key directory or its keyring.json (private keys are never read)', true),
        valueFlag('host', 'HOST', 'the address to bind (default 127.0.0.1)'),
        valueFlag('port', 'N', 'the task port; 0 picks a free one (default 0)'),
        valueFlag('health-port', 'N', 'serve /healthz and /metrics on this port; 0 picks a free one (default: not served)'),
        valueFlag('workers', 'N', 'worker threads (default 2)'),
        valueFlag('data-dir', 'DIR', 'keep accepted nonces in DIR/nonces.log, synced before each request runs, so a restart cannot reopen the replay window (default: memory only, forgotten on restart)'),
        valueFlag('backend', 'NAME', `Ed25519 verify backend: ${BACKEND_NAMES.join(', ')} (default webcrypto)`),
        valueFlag('max-age-ms', 'MS', `oldest timestamp accepted (default ${DEFAULT_REPLAY_POLICY.maxAgeMs})`),
        valueFlag('max-future-ms', 'MS', `clock skew allowed ahead (default ${DEFAULT_REPLAY_POLICY.maxFutureSkewMs})`),
        valueFlag('window-ms', 'MS', `minimum-progress window (default ${DEFAULT_PROGRESS_RULE.windowMs})`),
        valueFlag('min-progress-bytes', 'N', `bytes of an open frame required per window; 0 turns the rule off (default ${DEFAULT_PROGRESS_RULE.minBytes})`),
        valueFlag('max-clients', 'N', `connections past this are dropped by Node (default ${OVERLOAD_SERVER_DEFAULTS.maxClients})`),
        valueFlag('grace-ms', 'MS', 'on SIGTERM, how long admitted requests may take to finish (default 5000)'),
        valueFlag('stats-interval-ms', 'MS', 'log a server stats record this often; 0 for never (default 0)'),
        valueFlag('log', 'PATH', 'append JSON-lines records to PATH (default stderr)'),
        valueFlag('log-level', 'LEVEL', `lowest level logged: ${LOG_LEVELS.join(', ')} (default info)`),
        valueFlag('node-id', 'ID', 'node_id on every record (default node-1)'),
        JSON_FLAG,
      ],
      details: [
        'Every request frame must hold a signed envelope v1 (msg_type task) whose payload is a week 6',
        'task request with the same request_id. Checks run cheapest first: shape, version, signed,',
        'key known, time window, key validity, nonce unseen, payload hash; then the ladder admits or',
        'refuses; only admitted requests get the Ed25519 verification, then the nonce is recorded.',
        'Each refusal is answered with its code and logged as "request answered" with request_id,',
        'result, error_code and latency_ms. Prints one line (JSON with --json) once listening and one',
        'on stop.',
      ].join('\n'),
      run: runNode,
    },
    {
      verb: 'send',
      summary: 'Sign one task request with key NAME, send it to a node, print the answer; exit non-zero on a refusal',
      operands: '[PAYLOAD]',
      arity: { min: 0, max: 1 },
      flags: [
        valueFlag('keys', 'DIR', 'the key directory holding NAME\'s private key (mode 0600)', true),
        valueFlag('key', 'NAME', 'the key name; its current version signs', true),
        valueFlag('port', 'N', 'the node\'s task port', true),
        valueFlag('host', 'HOST', 'the node\'s address (default 127.0.0.1)'),
        valueFlag('task', 'NAME', `${TASK_NAMES.join(', ')} (default sha256: the reply is SHA-256 of PAYLOAD)`),
        valueFlag('arg', 'N', 'the task\'s size: rounds, ms or bytes (default 1)'),
        valueFlag('priority', 'high|low', 'admission priority under shed (default high)'),
        valueFlag('timeout-ms', 'MS', 'the request\'s time budget from its first byte (default 5000)'),
        valueFlag('request-id', 'ID', 'the request id (default: a fresh one)'),
        valueFlag('repeat', 'N', 'send the same signed bytes N times, one after another (a replay drill; default 1)'),
        valueFlag('tamper', 'payload|metadata', 'spoil the message after signing: flip a payload byte, or move the timestamp by 1 ms'),
        { name: 'unsigned', type: 'boolean', help: 'drop signature and key_id before sending' },
        valueFlag('save', 'FILE', 'write the exact bytes sent (and the request id) to FILE, for a later --resend'),
        valueFlag('resend', 'FILE', 'send the bytes saved by --save instead of a new signed request (a replay drill across restarts)'),
        valueFlag('skew-ms', 'MS', 'sign with the clock moved by MS; a negative MS (the past) is written --skew-ms=-300000'),
        valueFlag('backend', 'NAME', `Ed25519 sign backend: ${BACKEND_NAMES.join(', ')} (default node)`),
        valueFlag('wait-ms', 'MS', 'how long to wait for each answer (default 30000)'),
        JSON_FLAG,
      ],
      details: 'A group- or world-readable key file is refused (E_KEY_PERMISSIONS, exit 5). A refusal prints the answer, then error[CODE] with the exit status of its code.',
      run: runSend,
    },
  ],
};
