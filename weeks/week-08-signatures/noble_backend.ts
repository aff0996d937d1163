/**
 * The portable Ed25519 backend: `@noble/ed25519` 3.x with SHA-512 from
 * `@noble/hashes`, synchronous, pure TypeScript, the same in Node, Deno and browsers.
 * It is the slow one (BigInt arithmetic) and the cross-check for the others.
 *
 * noble's `verify` always uses the cofactored equation `[8][S]B = [8]R + [8][k]A`;
 * `{ zip215: false }` only tightens decoding and refuses small-order keys. OpenSSL
 * (behind `node:crypto` and WebCrypto) uses the cofactorless `[S]B = R + [k]A`. The
 * two disagree on an `R` with a torsion component, which a signer can build on
 * purpose. To give one verdict everywhere, this backend evaluates the cofactorless
 * equation with noble's own point arithmetic (RFC 8032 §5.1.7 steps 1 to 3) instead
 * of calling `verify`.
 * @module
 */
import { Point, hashes, getPublicKey, sign } from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { CURVE_ORDER, type BackendPublicKey, type BackendSecretKey, type SyncEd25519Backend } from './ed25519.ts';

// noble 3 leaves the synchronous SHA-512 unset to stay dependency-free; wire it once.
hashes.sha512 = sha512;

/** The little-endian integer of `bytes`. */
function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number);
  return n;
}

/** `a ‖ b ‖ c` in one new array. */
function concat3(a: Uint8Array, b: Uint8Array, c: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length + c.length);
  out.set(a, 0);
  out.set(b, a.length);
  out.set(c, a.length + b.length);
  return out;
}

// #region noble-cofactorless
/**
 * RFC 8032 §5.1.7, cofactorless: decode R and A strictly, check S < L, compute
 * k = SHA-512(R ‖ A ‖ M) mod L, and accept when [S]B - [k]A equals R exactly.
 */
function verifyCofactorless(signature: Uint8Array, message: Uint8Array, key: BackendPublicKey): boolean {
  if (signature.length !== 64) return false;
  const s = littleEndian(signature.subarray(32));
  if (s >= CURVE_ORDER) return false;
  let r: Point;
  try {
    r = Point.fromBytes(signature.subarray(0, 32), false);
  } catch {
    return false;
  }
  const a = key.native as Point;
  const k = littleEndian(sha512(concat3(signature.subarray(0, 32), key.bytes, message))) % CURVE_ORDER;
  const sb = Point.BASE.multiply(s, false); // precomputed tables for the base point
  return sb.subtract(a.multiply(k, false)).equals(r);
}
// #endregion noble-cofactorless

/** The noble backend (synchronous). */
export const NOBLE_BACKEND: SyncEd25519Backend = {
  name: 'noble',
  synchronous: true,
  importPublicKey(bytes: Uint8Array): BackendPublicKey {
    return { bytes: Uint8Array.from(bytes), native: Point.fromBytes(bytes, false) };
  },
  importSeed(seed: Uint8Array): BackendSecretKey {
    if (seed.length !== 32) throw new RangeError(`seed must be 32 bytes, got ${seed.length}`);
    return { publicKey: getPublicKey(seed), native: Uint8Array.from(seed) };
  },
  sign(message: Uint8Array, key: BackendSecretKey): Uint8Array {
    return sign(message, key.native as Uint8Array);
  },
  verify: verifyCofactorless,
};
