/**
 * The `key` and `envelope` command groups: `civictrust key gen|list|rotate` manage a
 * key directory; `civictrust envelope sign|verify` turn a payload into a signed
 * message and check one. (The CLI's grammar is `<noun> <verb>`, so the issue's
 * `civictrust sign|verify` are spelled `envelope sign|verify`.)
 * @module
 */
import { readFileSync } from 'node:fs';
import { concatBytes } from '../../lib/bytes.ts';
import { EXIT, LOG_ERRORS, errorFactory, mergeCatalogs, type ExitCode } from '../../lib/errors.ts';
import { LOG_COMMANDS, choiceFlag, intFlag, stringFlag, type CliIo, type CliSpec, type CommandArgs, type CommandGroup } from '../../lib/cli.ts';
import { HASH_ERRORS } from '../../lib/hashing.ts';
import { SIGN_ERRORS } from './catalog.ts';
import type { BackendName, Ed25519Backend } from './ed25519.ts';
import { EnvelopeVerifier, encodeSignedMessage, signEnvelope } from './envelope.ts';
import { NOBLE_BACKEND } from './noble_backend.ts';
import { NODE_BACKEND } from './node_crypto_backend.ts';
import { DEFAULT_OVERLAP_MS, generateKey, listKeys, loadKeyRing, loadSigner, rotateKey, type KeyInfo } from './node_key_store.ts';
import { DEFAULT_REPLAY_POLICY, NonceCache } from './replay.ts';
import { WEBCRYPTO_BACKEND } from './webcrypto_backend.ts';

const usage = errorFactory(LOG_ERRORS);

/** The backends by name. */
export const BACKENDS: Readonly<Record<BackendName, Ed25519Backend>> = { node: NODE_BACKEND, webcrypto: WEBCRYPTO_BACKEND, noble: NOBLE_BACKEND };
const BACKEND_NAMES = Object.keys(BACKENDS) as BackendName[];
/** The largest payload `envelope sign` and `verify` read: 16 MiB. */
const MAX_INPUT_BYTES = 16 * 1024 * 1024;
const DAY_MS = 86_400_000;

/** The key directory flag, required by every key command. */
const DIR_FLAG = { name: 'dir', type: 'string', value: 'DIR', required: true, help: 'the key directory (keyring.json and *.key files)' } as const;
const JSON_FLAG = { name: 'json', type: 'boolean', help: 'print one JSON object' } as const;
const BACKEND_FLAG = { name: 'backend', type: 'string', value: 'NAME', help: `Ed25519 backend: ${BACKEND_NAMES.join(', ')} (default node)` } as const;

/** The backend named by --backend. */
function backendOf(args: CommandArgs): Ed25519Backend {
  return BACKENDS[choiceFlag(args, 'backend', BACKEND_NAMES) ?? 'node'];
}

/** Reads the input: --file PATH, or stdin. */
async function readInput(args: CommandArgs, io: CliIo): Promise<Uint8Array> {
  const file = stringFlag(args, 'file');
  if (file !== undefined) return new Uint8Array(readFileSync(file));
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of io.stdin()) {
    total += chunk.length;
    if (total > MAX_INPUT_BYTES) throw usage('E_USAGE_VALUE', `Cannot read input: stdin holds more than ${MAX_INPUT_BYTES} bytes`);
    chunks.push(chunk);
  }
  return concatBytes(chunks);
}

/** One line per key version for `key list`. */
function formatKeyLine(info: KeyInfo): string {
  const r = info.record;
  return `${r.key_id.padEnd(20)} ${info.status.padEnd(8)} ${r.fingerprint}  ${r.not_before} .. ${r.not_after ?? 'open'}${info.hasPrivateKey ? '  private key here' : ''}`;
}

// #region key-commands
/** The `key` command group: gen, list, rotate. */
export const KEY_COMMANDS: CommandGroup = {
  noun: 'key',
  summary: 'Manage Ed25519 signing keys: versioned ids, 0600 key files, rotation with validity windows',
  commands: [
    {
      verb: 'gen',
      summary: 'Create version 1 of a new key: NAME-v1.key (mode 0600) and its record in keyring.json',
      operands: 'NAME',
      arity: { min: 1, max: 1 },
      flags: [DIR_FLAG, JSON_FLAG],
      details: 'NAME is 1-32 of a-z 0-9 -, starting with a letter. An existing NAME is refused (E_KEY_EXISTS, exit 3).',
      async run(args, io): Promise<ExitCode> {
        const record = generateKey(stringFlag(args, 'dir') as string, args.positionals[0] as string, { clock: io.clock });
        io.stdout(args.flags.json === true ? `${JSON.stringify(record)}\n` : `created ${record.key_id} fingerprint ${record.fingerprint}\n`);
        return EXIT.ok;
      },
    },
    {
      verb: 'list',
      summary: 'List every key version with its status, fingerprint and validity window',
      operands: '',
      arity: { min: 0, max: 0 },
      flags: [DIR_FLAG, JSON_FLAG],
      details: 'Status: current (valid, open-ended), retiring (valid until not_after), retired, pending.',
      async run(args, io): Promise<ExitCode> {
        const keys = listKeys(stringFlag(args, 'dir') as string, io.clock);
        io.stdout(args.flags.json === true
          ? `${JSON.stringify(keys.map((k) => ({ ...k.record, status: k.status, private_key: k.hasPrivateKey })))}\n`
          : keys.map((k) => `${formatKeyLine(k)}\n`).join(''));
        return EXIT.ok;
      },
    },
    {
      verb: 'rotate',
      summary: 'Start version N+1 of a key now; version N stays valid for --overlap-ms, then only verifies old messages',
      operands: 'NAME',
      arity: { min: 1, max: 1 },
      flags: [DIR_FLAG, { name: 'overlap-ms', type: 'string', value: 'MS', help: `how long the old version stays valid (default ${DEFAULT_OVERLAP_MS})` }, JSON_FLAG],
      details: 'The old private key file is deleted; its public key stays in keyring.json for verification.',
      async run(args, io): Promise<ExitCode> {
        const overlapMs = intFlag(args, 'overlap-ms', { min: 0, max: 365 * DAY_MS, fallback: DEFAULT_OVERLAP_MS });
        const { retired, current } = rotateKey(stringFlag(args, 'dir') as string, args.positionals[0] as string, { clock: io.clock, overlapMs });
        io.stdout(args.flags.json === true
          ? `${JSON.stringify({ retired, current })}\n`
          : `retired ${retired.key_id} (valid until ${retired.not_after ?? 'open'})\ncreated ${current.key_id} fingerprint ${current.fingerprint}\n`);
        return EXIT.ok;
      },
    },
  ],
};
// #endregion key-commands

// #region envelope-commands
/** The `envelope` command group: sign, verify. */
export const ENVELOPE_COMMANDS: CommandGroup = {
  noun: 'envelope',
  summary: 'Sign a payload into a signed envelope v1, and verify one (fail closed)',
  commands: [
    {
      verb: 'sign',
      summary: 'Sign stdin (or --file) with the current version of key NAME; write the signed message to stdout',
      operands: 'NAME',
      arity: { min: 1, max: 1 },
      flags: [
        DIR_FLAG,
        { name: 'type', type: 'string', value: 'MSG_TYPE', help: 'the msg_type (default echo)' },
        { name: 'request-id', type: 'string', value: 'ID', help: 'the request_id (default: a fresh id)' },
        { name: 'file', type: 'string', value: 'PATH', help: 'read the payload from PATH instead of stdin' },
        BACKEND_FLAG,
      ],
      details: 'Output: the header (one JSON line), a newline, the payload bytes. Refuses a group- or world-readable key file (E_KEY_PERMISSIONS, exit 5).',
      async run(args, io): Promise<ExitCode> {
        const payload = await readInput(args, io);
        const signer = await loadSigner(stringFlag(args, 'dir') as string, args.positionals[0] as string, backendOf(args), io.clock);
        const envelope = await signEnvelope(
          { msgType: stringFlag(args, 'type') ?? 'echo', requestId: stringFlag(args, 'request-id') ?? io.ids.next(), payload },
          signer,
          { clock: io.clock },
        );
        io.stdout(new TextDecoder().decode(encodeSignedMessage(envelope, payload)));
        return EXIT.ok;
      },
    },
    {
      verb: 'verify',
      summary: 'Verify a signed message from stdin (or --file) against a key ring; exit 0 only if it verifies',
      operands: '',
      arity: { min: 0, max: 0 },
      flags: [
        { name: 'keyring', type: 'string', value: 'PATH', required: true, help: 'a key directory or a keyring.json file' },
        { name: 'file', type: 'string', value: 'PATH', help: 'read the message from PATH instead of stdin' },
        { name: 'max-age-ms', type: 'string', value: 'MS', help: `oldest timestamp accepted (default ${DEFAULT_REPLAY_POLICY.maxAgeMs})` },
        { name: 'max-future-ms', type: 'string', value: 'MS', help: `clock skew allowed ahead (default ${DEFAULT_REPLAY_POLICY.maxFutureSkewMs})` },
        BACKEND_FLAG,
        JSON_FLAG,
      ],
      details: [
        'Checks, in order: size and shape, version, signed at all, key id known, time window,',
        'key validity, payload hash, signature. Unsigned messages are refused (E_SIG_MISSING).',
        'One run has no memory of earlier runs, so replays are caught by a long-lived verifier',
        '(the signed server), not by this command. Refusals exit 8 (integrity) or 3 (data).',
      ].join('\n'),
      async run(args, io): Promise<ExitCode> {
        const message = await readInput(args, io);
        const replay = new NonceCache({
          ...DEFAULT_REPLAY_POLICY,
          maxAgeMs: intFlag(args, 'max-age-ms', { min: 0, max: 365 * DAY_MS, fallback: DEFAULT_REPLAY_POLICY.maxAgeMs }),
          maxFutureSkewMs: intFlag(args, 'max-future-ms', { min: 0, max: DAY_MS, fallback: DEFAULT_REPLAY_POLICY.maxFutureSkewMs }),
        });
        const keys = await loadKeyRing(stringFlag(args, 'keyring') as string, backendOf(args));
        const { envelope, payload } = await new EnvelopeVerifier({ keys, replay, clock: io.clock, maxMessageBytes: MAX_INPUT_BYTES }).verify(message);
        const facts = { verified: true, key_id: envelope.key_id, msg_type: envelope.msg_type, request_id: envelope.request_id, timestamp: envelope.timestamp, payload_bytes: payload.length };
        io.stdout(args.flags.json === true
          ? `${JSON.stringify(facts)}\n`
          : `verified key_id=${facts.key_id} msg_type=${facts.msg_type} request_id=${facts.request_id} timestamp=${facts.timestamp} payload_bytes=${facts.payload_bytes}\n`);
        return EXIT.ok;
      },
    },
  ],
};
// #endregion envelope-commands

/** Week 8's CLI: week 1's log commands plus `key` and `envelope`. */
export const WEEK8_CLI: CliSpec = {
  name: 'civictrust',
  version: 'week-08',
  groups: [LOG_COMMANDS, KEY_COMMANDS, ENVELOPE_COMMANDS],
  catalog: mergeCatalogs(LOG_ERRORS, HASH_ERRORS, SIGN_ERRORS),
};
