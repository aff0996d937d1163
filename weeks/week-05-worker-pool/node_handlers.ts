/**
 * The built-in handler module of the pool: the CPU work CivicTrust hands to threads
 * (SHA-256, Ed25519 sign and verify, all through `node:crypto`), and test helpers that
 * misbehave on purpose (spin, throw a coded error, hang, crash).
 *
 * A worker thread loads this module by URL ({@link BUILTIN_HANDLERS}); the pool never
 * imports it on the main thread. Inputs and outputs are plain data because they are
 * structured-cloned: bytes go as `Uint8Array`.
 * @module
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { TaskHandler } from './node_worker_main.ts';

/** The URL of this module, for `WorkerPool.start({ handlers: BUILTIN_HANDLERS })`. */
export const BUILTIN_HANDLERS: URL = new URL(import.meta.url);

// RFC 8410 DER prefixes: a raw 32-byte Ed25519 seed or public key after these bytes
// is a PKCS#8 private key or an SPKI public key that node:crypto can import.
const PKCS8_ED25519 = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
const SPKI_ED25519 = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

// Parsed keys, per thread. Importing a key costs more than one signature, so each
// thread keeps the few keys it has seen (this cache is thread-confined: no sharing).
const keys = new Map<string, KeyObject>();

/** A key object for a raw 32-byte key, imported once per thread. */
function keyFor(kind: 'private' | 'public', raw: Uint8Array): KeyObject {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) throw Object.assign(new Error(`Cannot use ${kind} key: expected 32 bytes`), { code: 'E_TASK_BAD_INPUT', definite: true });
  const id = `${kind}:${Array.from(raw, (b) => b.toString(16).padStart(2, '0')).join('')}`;
  let key = keys.get(id);
  if (key === undefined) {
    const der = new Uint8Array(48 - (kind === 'public' ? 4 : 0));
    const prefix = kind === 'private' ? PKCS8_ED25519 : SPKI_ED25519;
    der.set(prefix);
    der.set(raw, prefix.length);
    key = kind === 'private' ? createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' }) : createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
    if (keys.size >= 64) keys.clear();
    keys.set(id, key);
  }
  return key;
}

/** Copies a Buffer into a plain Uint8Array (no shared pool memory crosses the boundary). */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Blocks this thread for `ms` of busy CPU. */
function spin(ms: number): number {
  const until = performance.now() + ms;
  let turns = 0;
  while (performance.now() < until) turns += 1;
  return turns;
}

// #region handlers
/** The built-in task handlers, by task type. */
export const handlers = {
  /** SHA-256 of the bytes: 32 bytes out. */
  sha256: (bytes: Uint8Array): Uint8Array => plain(createHash('sha256').update(bytes).digest()),
  /** Ed25519 signature (64 bytes) of `message` under the 32-byte `seed`. */
  'ed25519.sign': (input: { seed: Uint8Array; message: Uint8Array }): Uint8Array =>
    plain(sign(null, input.message, keyFor('private', input.seed))),
  /** True when `signature` is a valid Ed25519 signature of `message` under `publicKey`. */
  'ed25519.verify': (input: { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array }): boolean =>
    verify(null, input.message, keyFor('public', input.publicKey), input.signature),
  /** Returns its input unchanged: measures the round trip alone. */
  'test.echo': (input: unknown): unknown => input,
  /** Burns `ms` of CPU, then returns how many clock reads that took. */
  'test.spin': (ms: number): number => spin(ms),
  /** Throws a coded error, as a real handler refusing bad input would. */
  'test.fail': (input: { code: string; message: string; definite?: boolean }): never => {
    throw Object.assign(new Error(input.message), { code: input.code, definite: input.definite === true });
  },
  /** Throws an error with no code: the pool reports E_TASK_FAILED. */
  'test.throw': (message: string): never => {
    throw new TypeError(message);
  },
  /** Never returns: a loop only `worker.terminate()` can stop. */
  'test.hang': (): never => {
    for (;;) spin(1000);
  },
  /** Kills its own thread mid-task. */
  'test.crash': (): never => {
    process.exit(3);
  },
} satisfies Record<BuiltinTaskType, TaskHandler>;
// #endregion handlers

/**
 * The task types the built-in module serves, one per entry of its `handlers` table.
 * The table is checked against this list when it is type-checked, so a handler added
 * or removed without updating the list fails to compile.
 */
export type BuiltinTaskType =
  | 'sha256'
  | 'ed25519.sign'
  | 'ed25519.verify'
  | 'test.echo'
  | 'test.spin'
  | 'test.fail'
  | 'test.throw'
  | 'test.hang'
  | 'test.crash';
