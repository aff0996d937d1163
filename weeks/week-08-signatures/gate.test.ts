/**
 * The week 8 gate: one or more tests per criterion of the gate table, each named
 * `[8.k] <claim>`, plus negative controls that show each check can fail.
 * `npm run gate -- week-8` maps them to the criteria.
 *
 * The replay and tamper checks run over a real TCP socket to week 3's frame server
 * (in this process, port 0) serving the signed echo handler; the key-file and CLI
 * checks run the `civictrust` commands as real processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterIds, type Clock } from '../../lib/clock.ts';
import { RawPeer, createLogger, encodeFrame, nullSink, parseMessage } from '../../lib/framing.ts';
import { FrameServer } from '../../lib/server.ts';
import { fromHex } from '../../lib/hashing.ts';
import { errorCodeOf, makeWorkspace, runCliProcess } from '../../lib/testing.ts';
import { decodeBase64url, encodeBase64url } from './_base64url.ts';
import { verify as nobleVerify } from '@noble/ed25519';
import { agrees, verdictTable, type EdgeCase } from './edge_table.ts';
import { importVerifyingKeySync, verifyStrictSync, type Ed25519Backend } from './ed25519.ts';
import { EnvelopeVerifier, encodeSignedMessage, signEnvelopeSync, signingBytes, type SignedEnvelope, type SyncSigner } from './envelope.ts';
import { KeyRing, formatKeyId, makeKeyRecord, recordPublicKey, type KeyRecord } from './keys.ts';
import { NOBLE_BACKEND } from './noble_backend.ts';
import { NODE_BACKEND } from './node_crypto_backend.ts';
import { NonceCache } from './replay.ts';
import { signedEchoHandler } from './signed_handler.ts';
import { WEBCRYPTO_BACKEND } from './webcrypto_backend.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const MAIN = join(here, 'node_main.ts');
const CIVICTRUST = join(here, '..', '..', 'capstone', 'bin', 'civictrust.mjs');
const workspace = makeWorkspace('week8');
afterAll(() => workspace.remove());
const text = (s: string) => new TextEncoder().encode(s);
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const SEED = 8; // every nonce and key below derives from it; printed by failing assertions' data

/** Seeded nonces, distinct per call. */
function seededNonces(seed: number) {
  let n = 0;
  return (size: number) => {
    n += 1;
    return Uint8Array.from({ length: size }, (_, i) => (i === 0 ? seed : i === 1 ? n & 0xff : i === 2 ? (n >> 8) & 0xff : (seed * 31 + i) & 0xff));
  };
}

/** A signer with a seed derived from {@link SEED} on the node backend, and its public record. */
function makeSigner(name: string, salt: number): { signer: SyncSigner; record: KeyRecord } {
  const secret = NODE_BACKEND.importSeed(Uint8Array.from({ length: 32 }, (_, i) => (SEED * 7 + salt * 13 + i) & 0xff));
  const keyId = formatKeyId(name, 1);
  return { signer: { keyId, backend: NODE_BACKEND, secret }, record: makeKeyRecord(keyId, secret.publicKey, T0 - 3_600_000) };
}

const alice = makeSigner('alice', 1);
const mallory = makeSigner('mallory', 2);
const random = seededNonces(SEED);
const clock: Clock = { now: () => T0 };

/** A signed message from `signer`, dated `at`. */
function signed(payload: string, signer: SyncSigner = alice.signer, at = T0, requestId = 'req-1'): { envelope: SignedEnvelope; message: Uint8Array } {
  const envelope = signEnvelopeSync({ msgType: 'echo', requestId, payload: text(payload) }, signer, { clock: { now: () => at }, random });
  return { envelope, message: encodeSignedMessage(envelope, text(payload)) };
}

/** Starts the signed echo server on 127.0.0.1:0 over `verifier`. */
async function startSignedServer(verifier: EnvelopeVerifier): Promise<FrameServer> {
  const logger = createLogger({ clock, ids: counterIds('w8'), sink: nullSink });
  return FrameServer.listen({ port: 0, handler: signedEchoHandler(verifier), logger });
}

/** Sends one frame on `peer` and returns the reply's type and error code. */
async function roundTrip(peer: RawPeer, message: Uint8Array): Promise<{ type: string; errorCode: string | undefined; body: string }> {
  await peer.write(encodeFrame(message));
  const reply = parseMessage(await peer.readFrame(10_000));
  return { type: reply.type, errorCode: reply.errorCode, body: new TextDecoder().decode(reply.body) };
}

describe('week-08 · signatures and replay defence', () => {
  let server: FrameServer;
  let verifier: EnvelopeVerifier;
  beforeAll(async () => {
    verifier = new EnvelopeVerifier({ keys: KeyRing.createSync(NODE_BACKEND, [alice.record]), replay: new NonceCache(), clock });
    server = await startSignedServer(verifier);
  });
  afterAll(async () => {
    await server.close({ reason: 'test', graceMs: 1000 });
  });

  // ---------------------------------------------------------------------------------
  // [8.1] a signed request sent again is rejected with E_REPLAY on every repeat

  // #region replay-test
  it('[8.1] one signed packet sent 4 times over a real socket is answered once, then refused with E_REPLAY 3 times', async () => {
    const { message } = signed('transfer 10 to bob');
    const peer = await RawPeer.open(server.address.port);
    try {
      const replies = [];
      for (let i = 0; i < 4; i++) replies.push(await roundTrip(peer, message));
      expect(replies).toEqual([
        { type: 'echo_reply', errorCode: undefined, body: 'transfer 10 to bob' },
        ...Array.from({ length: 3 }, () => expect.objectContaining({ type: 'error', errorCode: 'E_REPLAY' })),
      ]);
    } finally {
      peer.destroy();
    }
  });

  it('[8.1] the same packet replayed on a second connection is refused with E_REPLAY too', async () => {
    const { message } = signed('second connection');
    const first = await RawPeer.open(server.address.port);
    const second = await RawPeer.open(server.address.port);
    try {
      expect((await roundTrip(first, message)).type).toBe('echo_reply');
      expect((await roundTrip(second, message)).errorCode).toBe('E_REPLAY');
    } finally {
      first.destroy();
      second.destroy();
    }
  });
  // #endregion replay-test

  it('[8.1] negative control: a verifier whose nonce cache forgets answers every repeat, so the check above would fail', async () => {
    const forgetful = new NonceCache();
    forgetful.record = () => 'recorded'; // remembers nothing
    const broken = await startSignedServer(new EnvelopeVerifier({ keys: KeyRing.createSync(NODE_BACKEND, [alice.record]), replay: forgetful, clock }));
    const peer = await RawPeer.open(broken.address.port);
    try {
      const { message } = signed('replay me');
      const types = [];
      for (let i = 0; i < 4; i++) types.push((await roundTrip(peer, message)).type);
      expect(types).toEqual(['echo_reply', 'echo_reply', 'echo_reply', 'echo_reply']);
    } finally {
      peer.destroy();
      await broken.close({ reason: 'test', graceMs: 1000 });
    }
  });

  it('[8.1] negative control: recording the nonce before verifying lets a forgery burn it, and the genuine request is then refused as a replay', async () => {
    const { envelope, message } = signed('genuine');
    const cache = new NonceCache();
    const early = new EnvelopeVerifier({ keys: KeyRing.createSync(NODE_BACKEND, [alice.record]), replay: cache, clock });
    // What a record-first verifier would do with the attacker's copy (same nonce, bad signature):
    cache.record(envelope.key_id, envelope.nonce, T0, T0);
    expect(() => early.verifySync(message)).toThrow(expect.objectContaining({ code: 'E_REPLAY' }));
  });

  // ---------------------------------------------------------------------------------
  // [8.2] a wrong key, an altered payload and altered metadata each fail with E_SIG_INVALID

  // #region tamper-test
  it('[8.2] a wrong key, an altered payload and each altered metadata field are refused with E_SIG_INVALID over the socket', async () => {
    const peer = await RawPeer.open(server.address.port);
    const fresh = () => signed('pay 5 to carol');
    const wrongKey = signed('pay 5 to carol', { ...mallory.signer, keyId: alice.signer.keyId }); // mallory signs, claims alice
    const alterHeader = (change: Partial<Record<keyof SignedEnvelope, string>>) => {
      const { envelope } = fresh();
      return encodeSignedMessage({ ...envelope, ...change }, text('pay 5 to carol'));
    };
    const cases: [string, Uint8Array][] = [
      ['wrong key', wrongKey.message],
      ['altered payload', encodeSignedMessage(fresh().envelope, text('pay 500 to carol'))],
      ['altered msg_type', alterHeader({ msg_type: 'admin' })],
      ['altered request_id', alterHeader({ request_id: 'req-2' })],
      ['altered timestamp', alterHeader({ timestamp: '2026-03-01T12:00:01.000Z' })],
      ['altered nonce', alterHeader({ nonce: encodeBase64url(new Uint8Array(16).fill(1)) })],
      ['altered payload_hash', alterHeader({ payload_hash: 'ab'.repeat(32) })],
    ];
    try {
      for (const [what, message] of cases) {
        expect({ what, ...(await roundTrip(peer, message)) }).toMatchObject({ what, type: 'error', errorCode: 'E_SIG_INVALID' });
      }
    } finally {
      peer.destroy();
    }
  });
  // #endregion tamper-test

  it('[8.2] the envelope verify command refuses an altered payload and a wrong key with E_SIG_INVALID, exit 8', async () => {
    const keyring = workspace.fresh('keyring.json');
    writeFileSync(keyring, JSON.stringify({ version: 1, keys: [alice.record] }));
    // The command runs on the system clock, so these messages are dated now (the window is 2 minutes).
    const verify = (message: Uint8Array) => runCliProcess(['envelope', 'verify', '--keyring', keyring], { entry: MAIN, stdin: message });
    const good = await verify(signed('cli check', alice.signer, Date.now()).message);
    expect(good.code, good.stderr).toBe(0);
    const altered = encodeSignedMessage(signed('cli check', alice.signer, Date.now()).envelope, text('cli CHECK'));
    const wrongKey = signed('x', { ...mallory.signer, keyId: 'alice-v1' }, Date.now()).message;
    for (const message of [altered, wrongKey]) {
      const result = await verify(message);
      expect([result.code, errorCodeOf(result.stderr)]).toEqual([8, 'E_SIG_INVALID']);
    }
  });

  it('[8.2] negative control: the unaltered message verifies, and the signature alone still verifies after the payload is swapped, so the hash check is what catches it', () => {
    const { envelope, message } = signed('original');
    const v = new EnvelopeVerifier({ keys: KeyRing.createSync(NODE_BACKEND, [alice.record]), replay: new NonceCache(), clock });
    expect(v.verifySync(message).payload).toEqual(text('original'));
    const key = importVerifyingKeySync(NODE_BACKEND, recordPublicKey(alice.record));
    expect(verifyStrictSync(decodeBase64url(envelope.signature) as Uint8Array, signingBytes(envelope), key)).toBe(true);
  });

  // ---------------------------------------------------------------------------------
  // [8.3] unsigned and expired envelopes are rejected by default

  it('[8.3] an unsigned envelope, an expired one and one from the future are refused over the socket by the default policy', async () => {
    const peer = await RawPeer.open(server.address.port);
    const { signature: _sig, key_id: _key, ...unsigned } = signed('no signature').envelope;
    try {
      expect((await roundTrip(peer, encodeSignedMessage(unsigned, text('no signature')))).errorCode).toBe('E_SIG_MISSING');
      expect((await roundTrip(peer, signed('old', alice.signer, T0 - 120_001).message)).errorCode).toBe('E_TIMESTAMP_EXPIRED');
      expect((await roundTrip(peer, signed('ahead', alice.signer, T0 + 30_001).message)).errorCode).toBe('E_TIMESTAMP_FUTURE');
      expect((await roundTrip(peer, text('not even a header\nhello'))).errorCode).toBe('E_JSON_SYNTAX');
    } finally {
      peer.destroy();
    }
  });

  it('[8.3] a message dated after its key\'s validity window is refused with E_KEY_NOT_VALID', () => {
    const retired: KeyRecord = { ...alice.record, not_after: '2026-03-01T11:59:00.000Z' };
    const v = new EnvelopeVerifier({ keys: KeyRing.createSync(NODE_BACKEND, [retired]), replay: new NonceCache(), clock });
    expect(() => v.verifySync(signed('late').message)).toThrow(expect.objectContaining({ code: 'E_KEY_NOT_VALID' }));
  });

  it('[8.3] negative control: the expired message verifies for a verifier whose clock reads its timestamp, so the window is what refused it', () => {
    const old = signed('old', alice.signer, T0 - 120_001);
    const then = new EnvelopeVerifier({ keys: KeyRing.createSync(NODE_BACKEND, [alice.record]), replay: new NonceCache(), clock: { now: () => T0 - 120_001 } });
    expect(then.verifySync(old.message).payload).toEqual(text('old'));
  });

  // ---------------------------------------------------------------------------------
  // [8.4] every backend gives the same verdict on the edge-case set

  const edge = JSON.parse(readFileSync(join(here, 'testdata', 'edge_cases.json'), 'utf8')) as { cases: EdgeCase[] };
  const backends: Ed25519Backend[] = [NODE_BACKEND, WEBCRYPTO_BACKEND, NOBLE_BACKEND];

  // #region edge-test
  it('[8.4] node:crypto, WebCrypto and noble give the same strict verdict on all 29 edge cases, accepting only the honest signature', async () => {
    const rows = await verdictTable(edge.cases, backends);
    expect(rows).toHaveLength(29);
    expect(rows.filter((r) => !agrees(r)).map((r) => r.id)).toEqual([]);
    expect(rows.filter((r) => r.strict.node === 'accept').map((r) => r.id)).toEqual(['honest']);
  });
  // #endregion edge-test

  it('[8.4] negative control: without the policy the same backends disagree, and noble\'s own strict mode accepts the mixed-order R that OpenSSL refuses', async () => {
    const rows = await verdictTable(edge.cases, backends);
    const disagreeing = rows.filter((r) => new Set(Object.values(r.raw)).size > 1).map((r) => r.id);
    expect(disagreeing.length).toBeGreaterThanOrEqual(20);
    const mixed = edge.cases.find((c) => c.id === 'mixed-order-r') as EdgeCase;
    expect(nobleVerify(fromHex(mixed.signature), fromHex(mixed.message), fromHex(mixed.public_key), { zip215: false })).toBe(true);
    expect(rows.find((r) => r.id === 'mixed-order-r')?.raw.node).toBe('reject');
    expect(rows.find((r) => r.id === 'identity-key-y-plus-p')?.raw.node).toBe('accept'); // the identity-key forgery
  });
});

// -----------------------------------------------------------------------------------
// [8.1] across restarts: the signed node (capstone) run as a real process on a data
// directory, stopped with SIGKILL or SIGTERM, started again on the same directory, and
// sent the very bytes it accepted before. Issue 14 found the first design (a nonce cache
// in memory only) answering that copy again; these fail on it.

/** A `civictrust node run` child process and the port it printed. */
interface NodeProcess { readonly child: ChildProcess; readonly port: number; readonly exited: Promise<number | null>; stderr(): string }

/** Starts the signed node on `dataDir` (or memory only) and waits for its JSON ready line. */
async function startNode(keys: string, dataDir: string | undefined, port = 0): Promise<NodeProcess> {
  const args = [CIVICTRUST, 'node', 'run', '--keys', keys, '--port', String(port), '--workers', '1', '--json', ...(dataDir === undefined ? [] : ['--data-dir', dataDir])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = await new Promise<number | undefined>((resolve) => {
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d;
      const line = stdout.split('\n').find((l) => l.includes('"listening"'));
      if (line !== undefined) resolve((JSON.parse(line) as { port: number }).port);
    });
    void exited.then(() => resolve(undefined));
  });
  if (ready === undefined) throw new Error(`node run exited before listening: ${stderr}`);
  return { child, port: ready, exited, stderr: () => stderr };
}

/** `node send` as a real process: `save` writes the signed bytes, `resend` sends saved ones. */
async function sendTask(keys: string, port: number, how: { save: string } | { resend: string }): Promise<{ code: number | null; answer: { ok: boolean; error_code?: string } }> {
  const extra = 'save' in how ? ['--save', how.save, 'transfer 10 to bob'] : ['--resend', how.resend];
  const child = spawn(process.execPath, [CIVICTRUST, 'node', 'send', '--keys', keys, '--key', 'console', '--port', String(port), '--json', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, answer: JSON.parse(stdout.split('\n')[0] ?? '{}') as { ok: boolean; error_code?: string } };
}

describe('week-08 · replay defence across restarts (real processes)', () => {
  let keys: string;
  beforeAll(async () => {
    keys = join(workspace.dir, 'restart-keys');
    const made = await runCliProcess(['key', 'gen', 'console', '--dir', keys], { entry: MAIN });
    expect(made.code).toBe(0);
  });

  // #region restart-test
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`[8.1] a signed request accepted once is refused with E_REPLAY after the node is stopped with ${signal} and started again on the same data directory`, async () => {
      const data = join(workspace.dir, `data-${signal}`);
      const saved = join(workspace.dir, `sent-${signal}.json`);
      const first = await startNode(keys, data);
      try {
        expect((await sendTask(keys, first.port, { save: saved })).answer).toMatchObject({ ok: true });
      } finally {
        first.child.kill(signal);
        await first.exited;
      }
      const second = await startNode(keys, data);
      try {
        const again = await sendTask(keys, second.port, { resend: saved });
        expect(again.answer).toMatchObject({ ok: false, error_code: 'E_REPLAY' });
        expect(again.code).toBe(8);
      } finally {
        second.child.kill('SIGKILL');
        await second.exited;
      }
    }, 60_000);
  }
  // #endregion restart-test

  it('[8.1] negative control: without a data directory the nonce cache is memory only, and the same bytes are answered again after SIGKILL (the hole issue 14 found)', async () => {
    const saved = join(workspace.dir, 'sent-memory.json');
    const first = await startNode(keys, undefined);
    try {
      expect((await sendTask(keys, first.port, { save: saved })).answer).toMatchObject({ ok: true });
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
    const second = await startNode(keys, undefined);
    try {
      expect((await sendTask(keys, second.port, { resend: saved })).answer).toMatchObject({ ok: true });
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
  }, 60_000);

  it('[8.1] a complete line of the nonce store that fails its check stops the node from starting (E_REPLAY_STORE_CORRUPT, exit 8) rather than forgetting nonces', async () => {
    const data = join(workspace.dir, 'data-corrupt');
    const saved = join(workspace.dir, 'sent-corrupt.json');
    const first = await startNode(keys, data);
    try {
      expect((await sendTask(keys, first.port, { save: saved })).answer).toMatchObject({ ok: true });
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }
    const log = join(data, 'nonces.log');
    const bytes = readFileSync(log);
    const at = bytes.indexOf('\nn ') + 5; // a digit of the first entry's timestamp
    bytes[at] = (bytes[at] as number) ^ 0x01;
    writeFileSync(log, bytes);
    await expect(startNode(keys, data)).rejects.toThrow(/E_REPLAY_STORE_CORRUPT/);
  }, 60_000);
});
