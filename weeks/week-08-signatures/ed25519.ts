/**
 * One Ed25519 interface over several backends, and the strict verification policy
 * every backend runs behind.
 *
 * RFC 8032 leaves verifiers room: the cofactored or the cofactorless equation, with
 * or without checks on small-order points and non-canonical encodings. Backends use
 * that room differently (OpenSSL, and so `node:crypto` and WebCrypto in Node, accept
 * the identity key with `R` = identity and `S` = 0 for every message; noble's
 * default follows ZIP-215 and accepts what OpenSSL refuses). So the policy here
 * decides before any backend is asked:
 *
 * - a public key is imported only if it is 32 bytes, canonically encoded, on the
 *   curve and of prime order `L` (no identity, no small-order point, no torsion
 *   component): {@link checkPublicKey}, paid once per key;
 * - a signature reaches a backend only if `S < L` and `R` is canonically encoded and
 *   not one of the eight small-order points: {@link signatureProblem}, a few byte
 *   comparisons per call;
 * - the one remaining difference, `R` with a torsion component, is settled by using
 *   the cofactorless equation everywhere (OpenSSL's), which refuses it.
 *
 * @see RFC 8032 §5.1.7 (verify), §5.1.3 (decoding)
 * @see Chalkias, Garillot, Nikolaenko, "Taming the many EdDSAs" (SSR 2020)
 * @module
 */
import { Point } from '@noble/ed25519';
import { errorFactory } from '../../lib/errors.ts';
import { toHex } from '../../lib/hashing.ts';
import { SIGN_ERRORS } from './catalog.ts';

const fail = errorFactory(SIGN_ERRORS);

/** Bytes in a public key, a seed (the RFC 8032 secret key) and a signature. */
export const ED25519_SIZES = {
  /** A public key: the encoded point A. */
  publicKey: 32,
  /** A seed: RFC 8032's secret key, hashed into the scalar and the nonce prefix. */
  seed: 32,
  /** A signature: R, then S. */
  signature: 64,
} as const;

/** The names of the backends this week ships. */
export type BackendName = 'node' | 'webcrypto' | 'noble';

/** A value, or a promise of it: synchronous backends return plain values. */
export type Awaitable<T> = T | Promise<T>;

/** A public key as a backend holds it: the raw bytes and the backend's own object. */
export interface BackendPublicKey {
  /** The 32-byte encoding. */
  readonly bytes: Uint8Array;
  /** The backend's parsed form (a `KeyObject`, a `CryptoKey`, a noble `Point`). */
  readonly native: unknown;
}

/** A secret key as a backend holds it. */
export interface BackendSecretKey {
  /** The 32-byte public key that goes with it. */
  readonly publicKey: Uint8Array;
  /** The backend's parsed form. */
  readonly native: unknown;
}

// #region backend-interface
/**
 * Ed25519 as one backend does it. Backends do no policy of their own: callers go
 * through {@link importVerifyingKey} and {@link verifyStrict}, which check keys and
 * signatures first. Arguments keep noble's order: `(signature, message, key)`.
 */
export interface Ed25519Backend {
  /** Which backend this is. */
  readonly name: BackendName;
  /** Parses a 32-byte public key; rejects (or throws) when the backend cannot. */
  importPublicKey(bytes: Uint8Array): Awaitable<BackendPublicKey>;
  /** Parses a 32-byte seed and derives its public key. */
  importSeed(seed: Uint8Array): Awaitable<BackendSecretKey>;
  /** Signs `message`; Ed25519 is deterministic, so the same inputs give the same 64 bytes. */
  sign(message: Uint8Array, key: BackendSecretKey): Awaitable<Uint8Array>;
  /** The backend's own verdict, with no policy applied. */
  verify(signature: Uint8Array, message: Uint8Array, key: BackendPublicKey): Awaitable<boolean>;
}

/**
 * A backend that answers without a promise (`node:crypto`, noble). The frame
 * server's handler is synchronous, so the server verifies through one of these;
 * WebCrypto is promise-only.
 */
export interface SyncEd25519Backend extends Ed25519Backend {
  /** Always true: the methods below return plain values. */
  readonly synchronous: true;
  /** Parses a 32-byte public key. */
  importPublicKey(bytes: Uint8Array): BackendPublicKey;
  /** Parses a 32-byte seed. */
  importSeed(seed: Uint8Array): BackendSecretKey;
  /** Signs `message`. */
  sign(message: Uint8Array, key: BackendSecretKey): Uint8Array;
  /** The backend's own verdict. */
  verify(signature: Uint8Array, message: Uint8Array, key: BackendPublicKey): boolean;
}
// #endregion backend-interface

/** True when `backend` answers synchronously. */
export function isSyncBackend(backend: Ed25519Backend): backend is SyncEd25519Backend {
  return (backend as Partial<SyncEd25519Backend>).synchronous === true;
}

// ---------------------------------------------------------------------------------------
// Curve facts

/** The field prime p = 2^255 - 19. */
const P = 2n ** 255n - 19n;
/** The order L of the prime-order subgroup (RFC 8032 §5.1). */
export const CURVE_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

// #region small-order
/**
 * The eight points of order dividing 8, as their canonical encodings: `[k]T` for a
 * point `T` of order 8 and `k` = 0..7. `[0]T` is the identity. A test recomputes
 * them with noble's point arithmetic.
 */
export const SMALL_ORDER_POINTS: readonly string[] = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity (0, 1)
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2 (0, -1)
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
];

/**
 * The y-coordinates of the small-order points, sign bit cleared: 1, 0, p - 1 and the
 * two of the order-8 points. A point is small-order exactly when its y is one of
 * these, whatever its sign bit says, so this also catches the "negative zero"
 * encodings (x = 0 with the sign bit set) of the identity and of (0, -1).
 */
const SMALL_ORDER_Y: ReadonlySet<string> = new Set(SMALL_ORDER_POINTS.map((hex) => {
  const last = Number.parseInt(hex.slice(62), 16) & 0x7f;
  return hex.slice(0, 62) + last.toString(16).padStart(2, '0');
}));
// #endregion small-order

/** The little-endian 255-bit y of a point encoding (sign bit dropped). */
function encodedY(bytes: Uint8Array): bigint {
  let y = BigInt((bytes[31] as number) & 0x7f);
  for (let i = 30; i >= 0; i--) y = (y << 8n) | BigInt(bytes[i] as number);
  return y;
}

/** The little-endian integer of `bytes`. */
function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number);
  return n;
}

/** The same 32 bytes with the sign bit cleared, as hex. */
function yHex(bytes: Uint8Array): string {
  const copy = Uint8Array.from(bytes.subarray(0, 32)); // a copy: Buffer.slice would alias the caller's bytes
  copy[31] = (copy[31] as number) & 0x7f;
  return toHex(copy);
}

// #region key-policy
/**
 * What is wrong with a public key, or undefined when it may be imported: it must be
 * 32 bytes, encode y < p, decode to a curve point, not be one of the eight
 * small-order points, and have no torsion component ([L]A = identity). The last test
 * is a full scalar multiplication, paid once per key, never per message.
 */
export function publicKeyProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length !== ED25519_SIZES.publicKey) return `length ${bytes.length}, expected 32 bytes`;
  if (encodedY(bytes) >= P) return 'non-canonical encoding (y >= p)';
  if (SMALL_ORDER_Y.has(yHex(bytes))) return 'a small-order point (the identity or a point of order 2, 4 or 8)';
  let point: Point;
  try {
    point = Point.fromBytes(bytes, false); // strict RFC 8032 decoding: y < p, no negative zero
  } catch {
    return 'not a point on the curve';
  }
  if (!point.isTorsionFree()) return 'a mixed-order point (it has a small-order component)';
  return undefined;
}

/**
 * Checks that a public key may be imported.
 * @throws {@link CivicError} `E_KEY_WEAK` for an identity, small-order, mixed-order or
 *   non-canonical key; `E_KEY_MALFORMED` for a wrong length or a non-point
 */
export function checkPublicKey(bytes: Uint8Array): void {
  const problem = publicKeyProblem(bytes);
  if (problem === undefined) return;
  const code = bytes.length !== ED25519_SIZES.publicKey || problem === 'not a point on the curve' ? 'E_KEY_MALFORMED' : 'E_KEY_WEAK';
  throw fail(code, `Cannot import public key: ${problem}`);
}
// #endregion key-policy

// #region signature-policy
/**
 * What is wrong with a signature's shape, or undefined. Cheap on purpose (byte
 * compares and one 256-bit comparison), so it runs before any backend: 64 bytes,
 * S < L (RFC 8032 §5.1.7 step 1; S + L would be a second valid signature), R
 * canonically encoded and not a small-order point.
 */
export function signatureProblem(signature: Uint8Array): string | undefined {
  if (signature.length !== ED25519_SIZES.signature) return `length ${signature.length}, expected 64 bytes`;
  if (littleEndian(signature.subarray(32)) >= CURVE_ORDER) return 'S is not reduced (S >= L)';
  const r = signature.subarray(0, 32);
  if (encodedY(r) >= P) return 'R is not canonically encoded (y >= p)';
  if (SMALL_ORDER_Y.has(yHex(r))) return 'R is a small-order point';
  return undefined;
}
// #endregion signature-policy

/** A public key that passed {@link checkPublicKey}, imported once into one backend. */
export interface VerifyingKey {
  /** The 32-byte encoding. */
  readonly bytes: Uint8Array;
  /** The backend it was imported into. */
  readonly backend: Ed25519Backend;
  /** The backend's parsed key. */
  readonly imported: BackendPublicKey;
}

/**
 * Checks a public key against the policy and imports it into `backend`.
 * @throws {@link CivicError} `E_KEY_WEAK` or `E_KEY_MALFORMED` (see {@link checkPublicKey});
 *   `E_KEY_MALFORMED` too when the backend itself refuses the key
 */
export async function importVerifyingKey(backend: Ed25519Backend, bytes: Uint8Array): Promise<VerifyingKey> {
  checkPublicKey(bytes);
  try {
    return { bytes: Uint8Array.from(bytes), backend, imported: await backend.importPublicKey(bytes) };
  } catch (error) {
    throw backendRefused(backend, error);
  }
}

/** A backend that refuses a key the policy let through still ends in a coded error. */
function backendRefused(backend: Ed25519Backend, error: unknown) {
  return fail('E_KEY_MALFORMED', `Cannot import public key: backend ${backend.name} refused it: ${error instanceof Error ? error.message : String(error)}`, error);
}

/** {@link importVerifyingKey} for a synchronous backend. */
export function importVerifyingKeySync(backend: SyncEd25519Backend, bytes: Uint8Array): VerifyingKey {
  checkPublicKey(bytes);
  try {
    return { bytes: Uint8Array.from(bytes), backend, imported: backend.importPublicKey(bytes) };
  } catch (error) {
    throw backendRefused(backend, error);
  }
}

// #region verify-strict
/**
 * Verifies under the strict policy: the signature's shape first, then the backend.
 * @param signature - 64 bytes
 * @param message - the signed bytes
 * @param key - a key imported with {@link importVerifyingKey}
 * @returns false for any signature that fails the policy or the backend
 */
export async function verifyStrict(signature: Uint8Array, message: Uint8Array, key: VerifyingKey): Promise<boolean> {
  if (signatureProblem(signature) !== undefined) return false;
  try {
    return await key.backend.verify(signature, message, key.imported);
  } catch {
    return false; // a backend that cannot decode R refuses by throwing: still a no
  }
}

/**
 * {@link verifyStrict} without a promise, for a key imported into a synchronous backend.
 * @throws TypeError when the key's backend is promise-only
 */
export function verifyStrictSync(signature: Uint8Array, message: Uint8Array, key: VerifyingKey): boolean {
  if (!isSyncBackend(key.backend)) throw new TypeError(`backend ${key.backend.name} has no synchronous verify`);
  if (signatureProblem(signature) !== undefined) return false;
  try {
    return key.backend.verify(signature, message, key.imported);
  } catch {
    return false;
  }
}
// #endregion verify-strict
