/**
 * The envelope verifier's pipeline, the nonce cache, the key ring and key files, in
 * process: each refusal code, the cheap-reject order, and what is (not) remembered.
 */
import { chmodSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { steppingClock, type Clock } from '../../lib/clock.ts';
import { makeWorkspace } from '../../lib/testing.ts';
import { encodeBase64url } from './_base64url.ts';
import type { Ed25519Backend } from './ed25519.ts';
import { EnvelopeVerifier, encodeSignedMessage, signEnvelopeSync, type SignedEnvelope, type SyncSigner } from './envelope.ts';
import { KeyRing, formatKeyId, makeKeyRecord, parseKeyId, type KeyRecord } from './keys.ts';
import { NOBLE_BACKEND } from './noble_backend.ts';
import { NODE_BACKEND } from './node_crypto_backend.ts';
import { generateKey, loadSigner, readKeyFile, readKeyRecords, rotateKey } from './node_key_store.ts';
import { NonceCache, checkWindow } from './replay.ts';
import { parseTimestamp } from './timestamp.ts';
import { WEBCRYPTO_BACKEND } from './webcrypto_backend.ts';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const text = (s: string) => new TextEncoder().encode(s);
const workspace = makeWorkspace('week8-envelope');
afterAll(() => workspace.remove());

/** A clock whose time the test sets. */
function manualClock(start: number): Clock & { set(ms: number): void } {
  let now = start;
  return { now: () => now, set: (ms: number) => void (now = ms) };
}

/** Seeded nonces: 16 bytes counting up from `seed`. */
function countingRandom(seed: number) {
  let n = seed;
  return (size: number) => Uint8Array.from({ length: size }, (_, i) => (i === 0 ? (n += 1) & 0xff : i === 1 ? (n >> 8) & 0xff : 7));
}

/** A signer with a fixed seed on the node backend, and its record. */
function fixture(name = 'node-a', fill = 1): { signer: SyncSigner; record: KeyRecord } {
  const secret = NODE_BACKEND.importSeed(new Uint8Array(32).fill(fill));
  const keyId = formatKeyId(name, 1);
  return { signer: { keyId, backend: NODE_BACKEND, secret }, record: makeKeyRecord(keyId, secret.publicKey, T0 - 60_000) };
}

describe('the verifier pipeline', () => {
  const { signer, record } = fixture();
  const clock = manualClock(T0);
  const random = countingRandom(1);
  const sign = (payload = text('hello'), at = T0): { envelope: SignedEnvelope; message: Uint8Array } => {
    const envelope = signEnvelopeSync({ msgType: 'echo', requestId: 'r-1', payload }, signer, { clock: { now: () => at }, random });
    return { envelope, message: encodeSignedMessage(envelope, payload) };
  };
  const verifier = (replay = new NonceCache()) => new EnvelopeVerifier({ keys: KeyRing.createSync(NODE_BACKEND, [record]), replay, clock });

  it('accepts a fresh signed message and refuses its repeat with E_REPLAY', () => {
    const v = verifier();
    const { message } = sign();
    expect(v.verifySync(message).envelope.request_id).toBe('r-1');
    expect(() => v.verifySync(message)).toThrow(expect.objectContaining({ code: 'E_REPLAY' }));
  });

  it('refuses an oversize message and a header line past its limit with E_ENVELOPE_OVERSIZE, before parsing', () => {
    const { message } = sign(text('x'.repeat(2048)));
    const small = new EnvelopeVerifier({ keys: KeyRing.createSync(NODE_BACKEND, [record]), replay: new NonceCache(), clock, maxMessageBytes: 1024 });
    expect(() => small.verifySync(message)).toThrow(expect.objectContaining({ code: 'E_ENVELOPE_OVERSIZE' }));
    const noNewline = text(`{"version":1,${'"pad":0,'.repeat(200)}}`);
    expect(() => verifier().verifySync(noNewline)).toThrow(expect.objectContaining({ code: 'E_ENVELOPE_OVERSIZE' }));
    expect(small.stats().curveChecks).toBe(0);
  });

  it('refuses a header with a duplicated member (strict I-JSON), the forged-first-copy trick', () => {
    const { envelope } = sign();
    const header = JSON.stringify(envelope).replace('"payload_hash":', `"payload_hash":"${'0'.repeat(64)}","payload_hash":`);
    const forged = text(`${header}\nhello`);
    expect(() => verifier().verifySync(forged)).toThrow(expect.objectContaining({ code: 'E_JSON_DUPLICATE_MEMBER' }));
  });

  it.each([
    ['an unknown field', (e: SignedEnvelope) => ({ ...e, extra: 1 }), 'E_ENVELOPE_MALFORMED'],
    ['version 2', (e: SignedEnvelope) => ({ ...e, version: 2 }), 'E_ENVELOPE_VERSION'],
    ['no signature', ({ signature: _s, ...e }: SignedEnvelope) => e, 'E_SIG_MISSING'],
    ['an unknown key id', (e: SignedEnvelope) => ({ ...e, key_id: 'node-z-v1' }), 'E_KEY_UNKNOWN'],
    ['a 15-byte nonce', (e: SignedEnvelope) => ({ ...e, nonce: encodeBase64url(new Uint8Array(15)) }), 'E_ENVELOPE_MALFORMED'],
    ['a timestamp with a +01:00 offset', (e: SignedEnvelope) => ({ ...e, timestamp: '2026-03-01T13:00:00.000+01:00' }), 'E_ENVELOPE_MALFORMED'],
  ])('refuses %s with its code', (_what, alter, code) => {
    const { envelope } = sign();
    expect(() => verifier().verifySync(encodeSignedMessage(alter(envelope) as SignedEnvelope, text('hello')))).toThrow(expect.objectContaining({ code }));
  });

  // #region order-test
  it('refuses a replayed nonce before any curve math, and burns no nonce on a bad signature', () => {
    const v = verifier();
    const { envelope, message } = sign();
    // A forgery reusing the genuine message's nonce arrives first: refused, and nothing is remembered...
    const forged = encodeSignedMessage({ ...envelope, signature: encodeBase64url(new Uint8Array(64).fill(9)) }, text('hello'));
    expect(() => v.verifySync(forged)).toThrow(expect.objectContaining({ code: 'E_SIG_INVALID' }));
    // ...so the genuine message still passes,
    v.verifySync(message);
    // and its replay is refused by a map lookup: the curve ran twice in all, not three times.
    expect(() => v.verifySync(message)).toThrow(expect.objectContaining({ code: 'E_REPLAY' }));
    expect(v.stats()).toEqual({ accepted: 1, rejected: { E_SIG_INVALID: 1, E_REPLAY: 1 }, curveChecks: 2 });
  });
  // #endregion order-test

  it('refuses with E_REPLAY_CACHE_FULL when every remembered nonce is still in the window, then accepts once they expire', () => {
    const v = verifier(new NonceCache({ maxAgeMs: 1000, maxFutureSkewMs: 1000, maxEntries: 2 }));
    v.verifySync(sign().message);
    v.verifySync(sign().message);
    expect(() => v.verifySync(sign().message)).toThrow(expect.objectContaining({ code: 'E_REPLAY_CACHE_FULL' }));
    clock.set(T0 + 1500); // the first two have left the window; a message signed now has room
    expect(v.verifySync(sign(text('later'), T0 + 1500).message).payload).toEqual(text('later'));
    clock.set(T0);
  });

  it('splits into precheck (no curve math, nothing recorded) and complete (curve math, then the nonce), once per message', async () => {
    const v = verifier();
    const { message } = sign();
    const first = v.precheck(message);
    const copy = v.precheck(message); // the nonce is not recorded yet, so a copy passes the cheap checks too
    expect(first.envelope.request_id).toBe('r-1');
    expect(v.stats().curveChecks).toBe(0);
    await expect(v.complete(first)).resolves.toMatchObject({ payload: text('hello') });
    await expect(v.complete(copy)).rejects.toMatchObject({ code: 'E_REPLAY' }); // the copy loses when it records
    await expect(v.complete(first)).rejects.toThrow(TypeError); // once only
    await expect(verifier().complete(v.precheck(sign().message))).rejects.toThrow(TypeError); // another verifier's
    expect(() => v.precheck(message)).toThrow(expect.objectContaining({ code: 'E_REPLAY' }));
    const forged = v.precheck(encodeSignedMessage({ ...sign().envelope, signature: encodeBase64url(new Uint8Array(64).fill(9)) }, text('hello')));
    await expect(v.complete(forged)).rejects.toMatchObject({ code: 'E_SIG_INVALID' });
    expect(v.stats()).toEqual({ accepted: 1, rejected: { E_REPLAY: 2, E_SIG_INVALID: 1 }, curveChecks: 3 });
  });
});

describe('the nonce cache', () => {
  it('evicts by timestamp, never a live entry, and keeps its past edge when the clock steps back', () => {
    const cache = new NonceCache({ maxAgeMs: 100, maxFutureSkewMs: 10, maxEntries: 3 });
    expect(cache.record('k-v1', 'a', 1000, 1000)).toBe('recorded');
    expect(cache.record('k-v1', 'a', 1000, 1000)).toBe('duplicate');
    expect(cache.record('k-v1', 'b', 1050, 1050)).toBe('recorded');
    expect(cache.record('k-v1', 'c', 1060, 1060)).toBe('recorded');
    expect(cache.record('k-v1', 'd', 1070, 1070)).toBe('full'); // a, b, c are all still in the window
    expect(cache.record('k-v1', 'd', 1101, 1101)).toBe('recorded'); // a expired (1000 + 100 < 1101)
    expect([cache.has('k-v1', 'a'), cache.size, cache.evicted]).toEqual([false, 3, 1]);
    // The clock steps back to 1000: a message dated 1000 would be in the window by that clock,
    // but its nonce may have been forgotten, so the horizon keeps it out.
    expect(() => checkWindow(1000, 1000, cache.policy, cache.horizon)).toThrow(expect.objectContaining({ code: 'E_TIMESTAMP_EXPIRED' }));
  });
});

describe('the key ring', () => {
  it('imports each key once, however many messages are verified (the verified-key cache)', async () => {
    let imports = 0;
    const counting: Ed25519Backend = { ...WEBCRYPTO_BACKEND, importPublicKey: (bytes) => ((imports += 1), WEBCRYPTO_BACKEND.importPublicKey(bytes)) };
    const { signer, record } = fixture();
    const keys = await KeyRing.create(counting, [record]);
    const v = new EnvelopeVerifier({ keys, replay: new NonceCache(), clock: { now: () => T0 } });
    const random = countingRandom(100);
    for (let i = 0; i < 20; i++) {
      const envelope = signEnvelopeSync({ msgType: 'echo', requestId: `r-${i}`, payload: text(`m${i}`) }, signer, { clock: { now: () => T0 }, random });
      await v.verify(encodeSignedMessage(envelope, text(`m${i}`)));
    }
    expect(imports).toBe(1);
  });

  it('refuses one key id bound to two keys', () => {
    const a = fixture('node-a', 1).record;
    const b = fixture('node-a', 2).record;
    expect(() => KeyRing.createSync(NOBLE_BACKEND, [a, b])).toThrow(expect.objectContaining({ code: 'E_KEY_CONFLICT' }));
  });

  it('parses key ids and refuses names that would be ambiguous', () => {
    expect(parseKeyId('node-a-v12')).toEqual({ name: 'node-a', version: 12 });
    expect(parseKeyId('node-a-v012')).toBeUndefined();
    expect(() => formatKeyId('node-v2', 1)).toThrow(expect.objectContaining({ code: 'E_KEY_MALFORMED' }));
  });
});

describe('key files', () => {
  it('writes the seed 0600, refuses to load it once group- or world-readable, and names the chmod', () => {
    const dir = workspace.fresh('keys');
    const record = generateKey(dir, 'issuer', { clock: steppingClock(T0, 1) });
    const path = `${dir}/${record.key_id}.key`;
    expect(readKeyFile(dir, record.key_id)).toHaveLength(32);
    for (const mode of [0o640, 0o604, 0o660]) {
      chmodSync(path, mode);
      expect(() => readKeyFile(dir, record.key_id)).toThrow(expect.objectContaining({ code: 'E_KEY_PERMISSIONS', message: expect.stringContaining(`chmod 600 ${path}`) }));
    }
    chmodSync(path, 0o600);
    expect(() => generateKey(dir, 'issuer', { clock: steppingClock(T0, 1) })).toThrow(expect.objectContaining({ code: 'E_KEY_EXISTS' }));
  });

  it('rotates: v2 signs from now, v1 keeps verifying inside its window and is refused after it', async () => {
    const dir = workspace.fresh('rotate');
    const clock = manualClock(T0);
    generateKey(dir, 'node-b', { clock });
    const v1 = await loadSigner(dir, 'node-b', NODE_BACKEND, clock);
    clock.set(T0 + 10_000);
    const { retired, current } = rotateKey(dir, 'node-b', { clock, overlapMs: 5000 });
    expect([retired.key_id, retired.not_after, current.key_id]).toEqual(['node-b-v1', '2026-03-01T12:00:15.000Z', 'node-b-v2']);
    expect(readFileSync(`${dir}/keyring.json`, 'utf8')).toContain('node-b-v1'); // the public half stays
    expect((await loadSigner(dir, 'node-b', NODE_BACKEND, clock)).keyId).toBe('node-b-v2');
    const keys = KeyRing.createSync(NODE_BACKEND, readKeyRecords(dir));
    const at = (ms: number) => {
      clock.set(ms);
      const envelope = signEnvelopeSync({ msgType: 'echo', requestId: 'r', payload: text('x') }, v1 as SyncSigner, { clock });
      return () => new EnvelopeVerifier({ keys, replay: new NonceCache(), clock }).verifySync(encodeSignedMessage(envelope, text('x')));
    };
    expect(at(T0 + 14_999)().envelope.key_id).toBe('node-b-v1');
    expect(at(T0 + 15_000)).toThrow(expect.objectContaining({ code: 'E_KEY_NOT_VALID' }));
    expect(parseTimestamp(current.not_before)).toBe(T0 + 10_000);
  });
});
