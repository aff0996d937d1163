/**
 * Key files on disk. A key directory holds one public key ring and one private key
 * file per version that may still sign:
 *
 * ```
 *  keys/
 *    keyring.json     { "version": 1, "keys": [KeyRecord, …] }   every version ever made (0644)
 *    node-a-v2.key    { "key_id", "algorithm", "seed" }          the current version's seed (0600)
 * ```
 *
 * Private key files are created with mode 0600 and `O_EXCL` (never overwritten), and
 * refused at load time when their group or others may read them (`E_KEY_PERMISSIONS`),
 * checked with `fstat` on the opened descriptor so the file checked is the file read.
 * Rotation writes the new version's key file, then the ring (temp file and rename, so
 * a crash leaves the old ring or the new, never half of one), then deletes the retired
 * version's key file: its public key stays in the ring for verification, but the
 * directory can no longer sign with it.
 * @module
 */
import { accessSync, closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../lib/clock.ts';
import { errorFactory, isCivicError } from '../../lib/errors.ts';
import { parseStrictJson } from '../../lib/hashing.ts';
import { fsError } from '../../lib/logger.ts';
import { decodeBase64url, encodeBase64url } from './_base64url.ts';
import { SIGN_ERRORS } from './catalog.ts';
import type { Ed25519Backend } from './ed25519.ts';
import type { Signer } from './envelope.ts';
import { formatKeyId, isValidAt, KeyRing, makeKeyRecord, parseKeyId, parseKeyRecord, type KeyRecord } from './keys.ts';
import { NOBLE_BACKEND } from './noble_backend.ts';
import { formatTimestamp } from './timestamp.ts';

const fail = errorFactory(SIGN_ERRORS);

/** The file name of the public key ring inside a key directory. */
export const KEYRING_FILE = 'keyring.json';

/** How long a rotated-out version stays valid after the rotation, by default: one hour. */
export const DEFAULT_OVERLAP_MS = 3_600_000;

/** The private key file of a key id. */
export function keyFilePath(dir: string, keyId: string): string {
  return join(dir, `${keyId}.key`);
}

/**
 * Refuses a key directory that is missing, is not a directory, or that this user
 * cannot read: "no keys" would make a verifier trust nothing and a signer fail later
 * with a misleading error, so each is a coded error naming the directory.
 * @throws {@link CivicError} `E_KEY_NOT_FOUND`, `E_PATH_NOT_DIR`, `E_PATH_PERMISSION`
 */
function checkKeyDir(dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
    accessSync(dir, constants.R_OK | constants.X_OK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw fail('E_KEY_NOT_FOUND', `Cannot use key directory ${dir}: it does not exist (create a key there with civictrust key gen NAME --dir ${dir})`);
    }
    throw fsError(error, `Cannot use key directory ${dir}`);
  }
}

/**
 * Reads `keyring.json` from a key directory or a path to the file. A directory that
 * exists and is readable but holds no ring yet has no keys; a missing or unreadable
 * directory or ring file is an error, never an empty ring.
 * @throws {@link CivicError} `E_KEY_NOT_FOUND`, `E_KEY_MALFORMED`, `E_PATH_PERMISSION`, `E_PATH_NOT_DIR`, `E_PATH_IS_DIR`
 */
export function readKeyRecords(path: string): KeyRecord[] {
  const isFile = path.endsWith('.json');
  const file = isFile ? path : join(path, KEYRING_FILE);
  if (!isFile) checkKeyDir(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, `Cannot read key ring ${file}`);
    if (isFile) throw fail('E_KEY_NOT_FOUND', `Cannot read key ring ${file}: no such file`);
    return [];
  }
  let parsed: unknown;
  try {
    parsed = parseStrictJson(bytes);
  } catch (error) {
    throw fail('E_KEY_MALFORMED', `Cannot read key ring ${file}: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  const ring = parsed as { version?: unknown; keys?: unknown };
  if (typeof parsed !== 'object' || parsed === null || ring.version !== 1 || !Array.isArray(ring.keys)) {
    throw fail('E_KEY_MALFORMED', `Cannot read key ring ${file}: expected {"version": 1, "keys": [...]}`);
  }
  return ring.keys.map(parseKeyRecord);
}

/** Writes the ring atomically: a temp file in the same directory, then rename. */
function writeKeyRecords(dir: string, records: readonly KeyRecord[]): void {
  const file = join(dir, KEYRING_FILE);
  const temp = `${file}.tmp-${process.pid}`;
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
  try {
    writeSync(fd, `${JSON.stringify({ version: 1, keys: records }, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

// #region write-key-file
/** Creates a private key file with mode 0600; refuses to replace an existing one. */
function writeKeyFile(dir: string, keyId: string, seed: Uint8Array): void {
  const path = keyFilePath(dir, keyId);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw fail('E_KEY_EXISTS', `Cannot create key file ${path}: it already exists`);
    throw error;
  }
  try {
    writeSync(fd, `${JSON.stringify({ key_id: keyId, algorithm: 'ed25519', seed: encodeBase64url(seed) })}\n`);
  } finally {
    closeSync(fd);
  }
}
// #endregion write-key-file

// #region read-key-file
/**
 * Reads the seed of a private key file, refusing a file its group or others can read.
 * @throws {@link CivicError} `E_KEY_PERMISSIONS` (with the `chmod 600` to run),
 *   `E_KEY_NOT_FOUND`, `E_KEY_MALFORMED`
 */
export function readKeyFile(dir: string, keyId: string): Uint8Array {
  const path = keyFilePath(dir, keyId);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw fail('E_KEY_NOT_FOUND', `Cannot load private key ${keyId}: ${path} does not exist`);
    if (code === 'ELOOP') throw fail('E_KEY_PERMISSIONS', `Cannot load private key ${path}: it is a symbolic link`);
    throw error;
  }
  try {
    const stat = fstatSync(fd); // the descriptor we read from, not the name: no swap in between
    if ((stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw fail('E_KEY_PERMISSIONS', `Cannot load private key ${path}: mode ${mode} lets group or others read it; run chmod 600 ${path}`);
    }
    const buffer = Buffer.alloc(Math.min(stat.size, 4096));
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    const parsed = parseStrictJson(buffer.subarray(0, length)) as { key_id?: unknown; algorithm?: unknown; seed?: unknown };
    const seed = typeof parsed.seed === 'string' ? decodeBase64url(parsed.seed) : undefined;
    buffer.fill(0);
    if (parsed.key_id !== keyId || parsed.algorithm !== 'ed25519' || seed?.length !== 32) {
      throw fail('E_KEY_MALFORMED', `Cannot load private key ${path}: expected {"key_id": "${keyId}", "algorithm": "ed25519", "seed": <32 bytes base64url>}`);
    }
    return seed;
  } catch (error) {
    if (isCivicError(error)) throw error;
    throw fail('E_KEY_MALFORMED', `Cannot load private key ${path}: ${error instanceof Error ? error.message : String(error)}`, error);
  } finally {
    closeSync(fd);
  }
}
// #endregion read-key-file

/** What the key commands return about one version. */
export interface KeyInfo {
  /** The record, as in the ring. */
  readonly record: KeyRecord;
  /** Whether this directory holds its private key. */
  readonly hasPrivateKey: boolean;
  /** `current` (valid now, open-ended), `retiring` (valid now, closing), `retired` or `pending`. */
  readonly status: 'current' | 'retiring' | 'retired' | 'pending';
}

/** The status of a record at `now`. */
function statusAt(record: KeyRecord, now: number): KeyInfo['status'] {
  if (isValidAt(record, now)) return record.not_after === null ? 'current' : 'retiring';
  return Date.parse(record.not_before) > now ? 'pending' : 'retired';
}

/** Lists every version in a key directory, oldest first. */
export function listKeys(dir: string, clock: Clock): KeyInfo[] {
  const now = clock.now();
  return readKeyRecords(dir).map((record) => ({ record, hasPrivateKey: existsSync(keyFilePath(dir, record.key_id)), status: statusAt(record, now) }));
}

/** The versions of one key name in a ring, oldest first. */
function versionsOf(records: readonly KeyRecord[], name: string): KeyRecord[] {
  return records.filter((r) => parseKeyId(r.key_id)?.name === name).sort((a, b) => (parseKeyId(a.key_id)?.version ?? 0) - (parseKeyId(b.key_id)?.version ?? 0));
}

/** Options of {@link generateKey} and {@link rotateKey}. */
export interface KeyWriteOptions {
  /** The time the new version starts. */
  readonly clock: Clock;
  /** Draws the 32-byte seed (default: `crypto.getRandomValues`). */
  readonly random?: (n: number) => Uint8Array;
}

/** A fresh seed from the runtime's CSPRNG. */
function randomSeed(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/**
 * Creates version 1 of a new key: its private key file (0600) and its record.
 * @throws {@link CivicError} `E_KEY_EXISTS` when the name is taken, `E_KEY_MALFORMED` for a bad name
 */
export function generateKey(dir: string, name: string, options: KeyWriteOptions): KeyRecord {
  const keyId = formatKeyId(name, 1);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const records = readKeyRecords(dir);
  if (versionsOf(records, name).length > 0) throw fail('E_KEY_EXISTS', `Cannot generate key ${name}: it exists already (use civictrust key rotate ${name})`);
  return addVersion(dir, records, keyId, options);
}

/** Makes a seed, writes its key file, appends its record, writes the ring. */
function addVersion(dir: string, records: KeyRecord[], keyId: string, options: KeyWriteOptions): KeyRecord {
  const seed = (options.random ?? randomSeed)(32);
  const record = makeKeyRecord(keyId, NOBLE_BACKEND.importSeed(seed).publicKey, options.clock.now());
  writeKeyFile(dir, keyId, seed);
  seed.fill(0);
  writeKeyRecords(dir, [...records, record]);
  return record;
}

/** What {@link rotateKey} did. */
export interface Rotation {
  /** The previous version, now with a `not_after`. */
  readonly retired: KeyRecord;
  /** The new current version. */
  readonly current: KeyRecord;
}

// #region rotate
/**
 * Rotates a key: version N+1 starts now; version N stays valid for `overlapMs` more
 * (messages already signed, and signers that have not reloaded, keep working), then
 * only verifies messages dated inside its window. Version N's private key file is
 * deleted once the ring is written.
 * @returns the retired and the new record
 * @throws {@link CivicError} `E_KEY_NOT_FOUND` when the name has no version yet
 */
export function rotateKey(dir: string, name: string, options: KeyWriteOptions & { readonly overlapMs?: number }): Rotation {
  const records = readKeyRecords(dir);
  const versions = versionsOf(records, name);
  const latest = versions.at(-1);
  if (latest === undefined) throw fail('E_KEY_NOT_FOUND', `Cannot rotate key ${name}: no version exists (use civictrust key gen ${name})`);
  const now = options.clock.now();
  const retired: KeyRecord = { ...latest, not_after: formatTimestamp(now + (options.overlapMs ?? DEFAULT_OVERLAP_MS)) };
  const others = records.map((r) => (r.key_id === latest.key_id ? retired : r));
  const current = addVersion(dir, others, formatKeyId(name, (parseKeyId(latest.key_id)?.version ?? 0) + 1), options);
  rmSync(keyFilePath(dir, latest.key_id), { force: true });
  return { retired, current };
}
// #endregion rotate

/**
 * Loads the signer of a key name: its newest version that is valid now and whose
 * private key file is here, imported into `backend`.
 * @throws {@link CivicError} `E_KEY_NOT_FOUND`, `E_KEY_PERMISSIONS`, `E_KEY_MALFORMED`
 */
export async function loadSigner(dir: string, name: string, backend: Ed25519Backend, clock: Clock): Promise<Signer> {
  const now = clock.now();
  const usable = versionsOf(readKeyRecords(dir), name).filter((r) => isValidAt(r, now) && existsSync(keyFilePath(dir, r.key_id)));
  const record = usable.at(-1);
  if (record === undefined) throw fail('E_KEY_NOT_FOUND', `Cannot sign with key ${name}: no version valid now has a private key file in ${dir}`);
  const seed = readKeyFile(dir, record.key_id);
  const secret = await backend.importSeed(seed);
  seed.fill(0);
  return { keyId: record.key_id, backend, secret };
}

/** Builds a verifier's key ring from a key directory or a `keyring.json` path. */
export async function loadKeyRing(path: string, backend: Ed25519Backend): Promise<KeyRing> {
  return KeyRing.create(backend, readKeyRecords(path));
}
