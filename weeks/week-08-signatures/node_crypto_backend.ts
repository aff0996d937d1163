/**
 * The `node:crypto` Ed25519 backend: OpenSSL through Node's synchronous one-shot
 * `crypto.sign` and `crypto.verify`, the fastest backend in Node and the one the
 * frame server's synchronous handler uses. Node-only, hence the `node_` name.
 * @module
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { BackendPublicKey, BackendSecretKey, SyncEd25519Backend } from './ed25519.ts';

/** SubjectPublicKeyInfo prefix for a raw Ed25519 key (RFC 8410 §4): this, then the 32 bytes. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** PKCS #8 prefix for a raw Ed25519 seed (RFC 8410 §7). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The `node:crypto` backend (synchronous). */
export const NODE_BACKEND: SyncEd25519Backend = {
  name: 'node',
  synchronous: true,
  importPublicKey(bytes: Uint8Array): BackendPublicKey {
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, bytes]), format: 'der', type: 'spki' });
    return { bytes: Uint8Array.from(bytes), native: key };
  },
  importSeed(seed: Uint8Array): BackendSecretKey {
    if (seed.length !== 32) throw new RangeError(`seed must be 32 bytes, got ${seed.length}`);
    const der = Buffer.concat([PKCS8_PREFIX, seed]);
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    der.fill(0);
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
    return { publicKey: new Uint8Array(spki.subarray(SPKI_PREFIX.length)), native: key };
  },
  sign(message: Uint8Array, key: BackendSecretKey): Uint8Array {
    return new Uint8Array(sign(null, message, key.native as KeyObject));
  },
  verify(signature: Uint8Array, message: Uint8Array, key: BackendPublicKey): boolean {
    return verify(null, message, key.native as KeyObject, signature);
  },
};
