/**
 * The `signing` suite: week 8's Ed25519 backends against each other, and the signed
 * envelope pipeline against the raw signature check it is built around.
 *
 * | figure | subject | peer / limit |
 * |---|---|---|
 * | verify, WebCrypto vs node:crypto | `crypto.subtle.verify`, 64 requests in flight | `crypto.verify` (OpenSSL, synchronous) |
 * | verify, noble vs node:crypto | noble, cofactorless (synchronous) | `crypto.verify` |
 * | sign, WebCrypto / noble vs node:crypto | `subtle.sign` (64 in flight) / noble `sign` | `crypto.sign` |
 * | envelope verify, node / WebCrypto | `EnvelopeVerifier` on a 256 B payload: strict JSON parse, shape, key lookup, window, nonce, SHA-256, strict verify, nonce record | the same backend's raw verify of the same signed bytes (limit; target ≥ 0.70) |
 *
 * Every message is signed before the clock starts, with a fresh nonce, so no trial
 * replays another; a fresh verifier (empty nonce cache) is built for each trial. After
 * each trial the suite checks every verification said yes, so a pipeline that refuses
 * (or a backend that returns false) fails the run instead of looking fast.
 * @module
 */
import {
  EnvelopeVerifier, KeyRing, NODE_BACKEND, NOBLE_BACKEND, NonceCache, WEBCRYPTO_BACKEND, encodeSignedMessage, formatKeyId,
  importVerifyingKey, makeKeyRecord, signEnvelopeSync, signingBytes, type Ed25519Backend, type SignedEnvelope,
} from '../../../lib/signing.ts';
import type { Figure, Suite, SuiteContext, Trial, Workload } from '../harness.ts';
import { seededBytes, seededRandom } from '../random.ts';

/** Requests in flight for the promise-based WebCrypto backend. */
export const IN_FLIGHT = 64;

/** Payload size of the envelope figures. */
const PAYLOAD_BYTES = 256;

/** Runs `count` calls of `task`, at most `window` at once. */
async function inFlight(count: number, window: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
}

/** Fixed material for one run: a key, messages and their signatures. */
interface Material {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly messages: readonly Uint8Array[];
  readonly signatures: readonly Uint8Array[];
}

/** Builds `count` 64-byte messages and their signatures from the run's seed. */
function material(ctx: SuiteContext, count: number): Material {
  const random = seededRandom(ctx.seed);
  const seed = seededBytes(random, 32);
  const secret = NODE_BACKEND.importSeed(seed);
  const messages = Array.from({ length: count }, () => seededBytes(random, 64));
  return { seed, publicKey: secret.publicKey, messages, signatures: messages.map((m) => NODE_BACKEND.sign(m, secret)) };
}

/** A workload verifying every message once with `backend` (all in flight when it is promise-based). */
function verifyWorkload(ctx: SuiteContext, backend: Ed25519Backend, data: Material, label: string): Workload {
  return {
    label,
    async prepare(): Promise<Trial> {
      const key = await importVerifyingKey(backend, data.publicKey);
      let good = 0;
      const one = async (i: number) => {
        if (await backend.verify(data.signatures[i] as Uint8Array, data.messages[i] as Uint8Array, key.imported)) good += 1;
      };
      return {
        async run() {
          if (backend.name === 'webcrypto') await inFlight(data.messages.length, IN_FLIGHT, one);
          else for (let i = 0; i < data.messages.length; i++) await one(i);
        },
        finish: () => ctx.check(good === data.messages.length, `${label}: ${good} of ${data.messages.length} signatures verified`),
      };
    },
  };
}

/** A workload signing every message once with `backend`. */
function signWorkload(ctx: SuiteContext, backend: Ed25519Backend, data: Material, label: string): Workload {
  return {
    label,
    async prepare(): Promise<Trial> {
      const secret = await backend.importSeed(data.seed);
      const out: Uint8Array[] = new Array(data.messages.length);
      const one = async (i: number) => {
        out[i] = await backend.sign(data.messages[i] as Uint8Array, secret);
      };
      return {
        async run() {
          if (backend.name === 'webcrypto') await inFlight(data.messages.length, IN_FLIGHT, one);
          else for (let i = 0; i < data.messages.length; i++) await one(i);
        },
        finish() {
          // Ed25519 is deterministic: every backend must produce node:crypto's bytes.
          const same = out.every((sig, i) => Buffer.from(sig).equals(data.signatures[i] as Uint8Array));
          ctx.check(same, `${label}: signatures differ from node:crypto's`);
        },
      };
    },
  };
}

/** Signed envelopes with fresh nonces, plus what the raw side needs to check the same signatures. */
function envelopes(ctx: SuiteContext, count: number, trial: number): { messages: Uint8Array[]; envelopes: SignedEnvelope[]; record: ReturnType<typeof makeKeyRecord>; now: number } {
  const random = seededRandom(ctx.seed + 1000 + trial);
  const secret = NODE_BACKEND.importSeed(seededBytes(seededRandom(ctx.seed), 32));
  const keyId = formatKeyId('bench', 1);
  const now = Date.parse('2026-01-01T00:00:00.000Z');
  const signer = { keyId, backend: NODE_BACKEND, secret };
  const list: SignedEnvelope[] = [];
  const messages: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const payload = seededBytes(random, PAYLOAD_BYTES);
    const envelope = signEnvelopeSync({ msgType: 'bench', requestId: `b-${trial}-${i}`, payload }, signer, { clock: { now: () => now }, random: (n) => seededBytes(random, n) });
    list.push(envelope);
    messages.push(encodeSignedMessage(envelope, payload));
  }
  return { messages, envelopes: list, record: makeKeyRecord(keyId, secret.publicKey, now - 1000), now };
}

/** The full-pipeline figure and its raw-verify limit, for one backend. */
function envelopeFigure(ctx: SuiteContext, backend: Ed25519Backend, ops: number): Figure {
  let trials = 0;
  const subject: Workload = {
    label: `EnvelopeVerifier (${backend.name})`,
    async prepare(): Promise<Trial> {
      const data = envelopes(ctx, ops, trials++);
      const verifier = new EnvelopeVerifier({ keys: await KeyRing.create(backend, [data.record]), replay: new NonceCache(), clock: { now: () => data.now } });
      return {
        async run() {
          if (backend.name === 'webcrypto') await inFlight(ops, IN_FLIGHT, (i) => verifier.verify(data.messages[i] as Uint8Array));
          else for (const message of data.messages) verifier.verifySync(message);
        },
        finish: () => ctx.check(verifier.stats().accepted === ops, `pipeline (${backend.name}) accepted ${verifier.stats().accepted} of ${ops}`),
      };
    },
  };
  const peer: Workload = {
    label: `raw verify (${backend.name})`,
    async prepare(): Promise<Trial> {
      const data = envelopes(ctx, ops, trials++);
      const key = await importVerifyingKey(backend, Buffer.from(data.record.public_key, 'base64url'));
      const signed = data.envelopes.map((e) => ({ bytes: signingBytes(e), signature: new Uint8Array(Buffer.from(e.signature, 'base64url')) }));
      let good = 0;
      const one = async (i: number) => {
        const s = signed[i] as { bytes: Uint8Array; signature: Uint8Array };
        if (await backend.verify(s.signature, s.bytes, key.imported)) good += 1;
      };
      return {
        async run() {
          if (backend.name === 'webcrypto') await inFlight(ops, IN_FLIGHT, one);
          else for (let i = 0; i < ops; i++) await one(i);
        },
        finish: () => ctx.check(good === ops, `raw verify (${backend.name}) accepted ${good} of ${ops}`),
      };
    },
  };
  return { name: `envelope verify 256 B, ${backend.name}`, metric: 'throughput', unit: 'msg', ops, bytesPerOp: PAYLOAD_BYTES, subject, peer, relation: 'limit', target: { atLeast: 0.7 } };
}

/** The `signing` suite. */
export const SIGNING_SUITE: Suite = {
  name: 'signing',
  title: 'Ed25519: node:crypto vs WebCrypto vs noble, and the signed-envelope pipeline vs raw verify',
  figures(ctx) {
    const fast = ctx.short ? 20 : 4000;
    const slow = ctx.short ? 4 : 300; // noble is about 15x slower; both sides of a figure do the same ops
    ctx.progress('signing fixtures');
    const many = material(ctx, fast);
    const few = material(ctx, slow);
    const node = (data: Material, what: 'verify' | 'sign') => (what === 'verify' ? verifyWorkload(ctx, NODE_BACKEND, data, 'node:crypto') : signWorkload(ctx, NODE_BACKEND, data, 'node:crypto'));
    return [
      { name: 'verify 64 B, WebCrypto vs node:crypto', metric: 'throughput', unit: 'sig', ops: fast, subject: verifyWorkload(ctx, WEBCRYPTO_BACKEND, many, `WebCrypto (${IN_FLIGHT} in flight)`), peer: node(many, 'verify'), relation: 'peer' },
      { name: 'verify 64 B, noble vs node:crypto', metric: 'throughput', unit: 'sig', ops: slow, subject: verifyWorkload(ctx, NOBLE_BACKEND, few, 'noble'), peer: node(few, 'verify'), relation: 'peer' },
      { name: 'sign 64 B, WebCrypto vs node:crypto', metric: 'throughput', unit: 'sig', ops: fast, subject: signWorkload(ctx, WEBCRYPTO_BACKEND, many, `WebCrypto (${IN_FLIGHT} in flight)`), peer: node(many, 'sign'), relation: 'peer' },
      { name: 'sign 64 B, noble vs node:crypto', metric: 'throughput', unit: 'sig', ops: slow, subject: signWorkload(ctx, NOBLE_BACKEND, few, 'noble'), peer: node(few, 'sign'), relation: 'peer' },
      envelopeFigure(ctx, NODE_BACKEND, fast),
      envelopeFigure(ctx, WEBCRYPTO_BACKEND, fast),
    ];
  },
};
