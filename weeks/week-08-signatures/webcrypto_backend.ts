/**
 * The web-standard Ed25519 backend: `crypto.subtle` with the `Ed25519` algorithm
 * (WebCrypto, Secure Curves). The same code runs in Node (20+), Deno and current
 * browsers; in Node it is OpenSSL underneath, so its verdicts match `node:crypto`'s.
 * Every call returns a promise, so it suits pipelines that can await, and many
 * verifications can be in flight at once.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { SIGN_ERRORS } from './catalog.ts';
import type { BackendPublicKey, BackendSecretKey, Ed25519Backend } from './ed25519.ts';

const fail = errorFactory(SIGN_ERRORS);

/** The runtime's SubtleCrypto type, named without DOM typings. */
type Subtle = typeof globalThis.crypto.subtle;
/** A WebCrypto key. */
type WebKey = Awaited<ReturnType<Subtle['importKey']>>;

const ALGORITHM = { name: 'Ed25519' } as const;

/** PKCS #8 wrapping of a 32-byte Ed25519 seed (RFC 8410 §7): this prefix, then the seed. */
const PKCS8_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20);

/** The runtime's SubtleCrypto. */
function subtle(): Subtle {
  const found = (globalThis as { crypto?: { subtle?: Subtle } }).crypto?.subtle;
  if (found === undefined) throw fail('E_KEY_BACKEND', 'Cannot use the webcrypto backend: globalThis.crypto.subtle is missing');
  return found;
}

/** Reads base64url (a JWK member) into bytes. */
function jwkBytes(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A copy of `bytes` with its own ArrayBuffer, the BufferSource type subtle wants. */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** The WebCrypto backend (promise-based). */
export const WEBCRYPTO_BACKEND: Ed25519Backend = {
  name: 'webcrypto',
  async importPublicKey(bytes: Uint8Array): Promise<BackendPublicKey> {
    const key = await subtle().importKey('raw', own(bytes), ALGORITHM, false, ['verify']);
    return { bytes: Uint8Array.from(bytes), native: key };
  },
  async importSeed(seed: Uint8Array): Promise<BackendSecretKey> {
    if (seed.length !== 32) throw new RangeError(`seed must be 32 bytes, got ${seed.length}`);
    const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
    pkcs8.set(PKCS8_PREFIX, 0);
    pkcs8.set(seed, PKCS8_PREFIX.length);
    // Extractable once, only to read the public half (JWK member x); the signing key kept is not.
    const probe = await subtle().importKey('pkcs8', pkcs8, ALGORITHM, true, ['sign']);
    const jwk = await subtle().exportKey('jwk', probe);
    const key = await subtle().importKey('pkcs8', pkcs8, ALGORITHM, false, ['sign']);
    pkcs8.fill(0);
    return { publicKey: jwkBytes(jwk.x ?? ''), native: key };
  },
  async sign(message: Uint8Array, key: BackendSecretKey): Promise<Uint8Array> {
    return new Uint8Array(await subtle().sign(ALGORITHM, key.native as WebKey, own(message)));
  },
  async verify(signature: Uint8Array, message: Uint8Array, key: BackendPublicKey): Promise<boolean> {
    return subtle().verify(ALGORITHM, key.native as WebKey, own(signature), own(message));
  },
};
