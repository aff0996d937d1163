/**
 * Key ids, public key records with validity windows, and the trusted key ring with
 * its verified-key cache.
 *
 * A key id is `<name>-v<version>`, e.g. `node-a-v3`: the name says whose key it is,
 * the version counts rotations from 1 and never repeats. Rotation adds version N+1
 * and closes version N's window; the old public key stays in the ring, so messages
 * signed before the rotation still verify, and messages dated after its window are
 * refused (`E_KEY_NOT_VALID`). A record also carries a fingerprint (the first 8 bytes
 * of the SHA-256 of the public key, hex) so two copies of a ring can be compared by
 * eye; the key ring refuses one key id bound to two different keys (`E_KEY_CONFLICT`).
 *
 * ```
 *  version 1  [not_before ............ not_after)
 *  version 2                  [not_before ............ not_after)
 *  version 3                                     [not_before ............ (open)
 *                             └ overlap ┘        └ overlap ┘
 * ```
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { sha256, toHex } from '../../lib/hashing.ts';
import { decodeBase64url, encodeBase64url } from './_base64url.ts';
import { SIGN_ERRORS } from './catalog.ts';
import { importVerifyingKey, importVerifyingKeySync, type Ed25519Backend, type SyncEd25519Backend, type VerifyingKey } from './ed25519.ts';
import { formatTimestamp, parseTimestamp } from './timestamp.ts';

const fail = errorFactory(SIGN_ERRORS);

// #region key-id
/** A key name: 1-32 characters of `a-z 0-9 -`, starting with a letter, not ending in `-v<digits>`. */
const KEY_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** A key id: a key name, `-v`, and a version from 1 to 999999 without leading zeros. */
const KEY_ID = /^([a-z][a-z0-9-]{0,31})-v([1-9][0-9]{0,5})$/;

/** True when `name` may name a key. */
export function isKeyName(name: string): boolean {
  return KEY_NAME.test(name) && !/-v[0-9]+$/.test(name);
}

/**
 * The key id of version `version` of key `name`: `node-a` and 3 give `node-a-v3`.
 * @throws {@link CivicError} `E_KEY_MALFORMED` for a bad name or version
 */
export function formatKeyId(name: string, version: number): string {
  if (!isKeyName(name)) throw fail('E_KEY_MALFORMED', `Cannot use key name ${JSON.stringify(name)}: expected 1-32 of a-z 0-9 -, starting with a letter`);
  if (!Number.isSafeInteger(version) || version < 1 || version > 999_999) throw fail('E_KEY_MALFORMED', `Cannot use key version ${version}: expected 1 to 999999`);
  return `${name}-v${version}`;
}

/** A key id taken apart. */
export interface KeyIdParts {
  /** The key name, e.g. `node-a`. */
  readonly name: string;
  /** The version, from 1. */
  readonly version: number;
}

/** Splits a key id into name and version, or undefined when it is not one. */
export function parseKeyId(keyId: string): KeyIdParts | undefined {
  const match = KEY_ID.exec(keyId);
  if (match === null || !isKeyName(match[1] as string)) return undefined;
  return { name: match[1] as string, version: Number(match[2]) };
}
// #endregion key-id

/** The fingerprint of a public key: the first 8 bytes of its SHA-256, hex. */
export function keyFingerprint(publicKey: Uint8Array): string {
  return toHex(sha256(publicKey).subarray(0, 8));
}

// #region key-record
/** A public key with its validity window, as the key ring stores it (JSON, snake_case). */
export interface KeyRecord {
  /** `<name>-v<version>`. */
  readonly key_id: string;
  /** Always `ed25519`. */
  readonly algorithm: 'ed25519';
  /** The 32-byte public key, base64url without padding. */
  readonly public_key: string;
  /** {@link keyFingerprint} of the public key. */
  readonly fingerprint: string;
  /** The first instant the key may sign, RFC 3339 UTC with milliseconds. */
  readonly not_before: string;
  /** The instant it stops being valid (exclusive), or null while it is current. */
  readonly not_after: string | null;
}
// #endregion key-record

/** The public key bytes of a record. */
export function recordPublicKey(record: KeyRecord): Uint8Array {
  const bytes = decodeBase64url(record.public_key);
  if (bytes === undefined || bytes.length !== 32) throw fail('E_KEY_MALFORMED', `Cannot read key ${record.key_id}: public_key is not 32 bytes of base64url`);
  return bytes;
}

/** A fresh record for `publicKey` valid from `notBefore` (ms since the epoch), open-ended. */
export function makeKeyRecord(keyId: string, publicKey: Uint8Array, notBefore: number): KeyRecord {
  return {
    key_id: keyId,
    algorithm: 'ed25519',
    public_key: encodeBase64url(publicKey),
    fingerprint: keyFingerprint(publicKey),
    not_before: formatTimestamp(notBefore),
    not_after: null,
  };
}

/**
 * Checks a parsed JSON value is a well-formed {@link KeyRecord} and returns it.
 * @throws {@link CivicError} `E_KEY_MALFORMED` naming the bad field
 */
export function parseKeyRecord(value: unknown): KeyRecord {
  const bad = (why: string) => fail('E_KEY_MALFORMED', `Cannot read key record: ${why}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not an object');
  const r = value as Record<string, unknown>;
  const fields = ['key_id', 'algorithm', 'public_key', 'fingerprint', 'not_before', 'not_after'];
  for (const name of Object.keys(r)) if (!fields.includes(name)) throw bad(`unknown field ${name}`);
  if (typeof r.key_id !== 'string' || parseKeyId(r.key_id) === undefined) throw bad(`key_id ${JSON.stringify(r.key_id)} is not <name>-v<N>`);
  if (r.algorithm !== 'ed25519') throw bad(`${r.key_id}: algorithm must be ed25519`);
  if (typeof r.public_key !== 'string') throw bad(`${r.key_id}: public_key must be a string`);
  if (typeof r.not_before !== 'string' || parseTimestamp(r.not_before) === undefined) throw bad(`${r.key_id}: not_before is not an RFC 3339 UTC timestamp`);
  if (r.not_after !== null && (typeof r.not_after !== 'string' || parseTimestamp(r.not_after) === undefined)) throw bad(`${r.key_id}: not_after must be null or an RFC 3339 UTC timestamp`);
  const record = r as unknown as KeyRecord;
  const publicKey = recordPublicKey(record);
  if (r.fingerprint !== keyFingerprint(publicKey)) throw bad(`${r.key_id}: fingerprint does not match public_key`);
  return record;
}

/** Whether a key may be used at `time` (ms): `not_before <= time < not_after`. */
export function isValidAt(record: KeyRecord, time: number): boolean {
  const from = parseTimestamp(record.not_before) as number;
  const until = record.not_after === null ? Number.POSITIVE_INFINITY : (parseTimestamp(record.not_after) as number);
  return from <= time && time < until;
}

/** A trusted key: its record and the key imported once into a backend. */
export interface TrustedKey {
  /** The record, window included. */
  readonly record: KeyRecord;
  /** The imported key, reused for every verification. */
  readonly key: VerifyingKey;
}

// #region key-ring
/**
 * The keys a verifier trusts, by key id, each imported into one backend exactly once
 * (the verified-key cache): verifying a message is a map lookup and the curve math,
 * never a key parse. Importing runs the key policy, so a weak key never enters.
 */
export class KeyRing {
  readonly #backend: Ed25519Backend;
  readonly #keys = new Map<string, TrustedKey>();

  private constructor(backend: Ed25519Backend) {
    this.#backend = backend;
  }

  /**
   * Builds a ring from records, importing each key.
   * @throws {@link CivicError} `E_KEY_WEAK`, `E_KEY_MALFORMED` or `E_KEY_CONFLICT`
   */
  static async create(backend: Ed25519Backend, records: readonly KeyRecord[] = []): Promise<KeyRing> {
    const ring = new KeyRing(backend);
    for (const record of records) await ring.add(record);
    return ring;
  }

  /** {@link create} for a synchronous backend, without a promise. */
  static createSync(backend: SyncEd25519Backend, records: readonly KeyRecord[] = []): KeyRing {
    const ring = new KeyRing(backend);
    for (const record of records) ring.addSync(record);
    return ring;
  }

  /** The backend the keys are imported into. */
  get backend(): Ed25519Backend {
    return this.#backend;
  }

  /** How many keys the ring holds. */
  get size(): number {
    return this.#keys.size;
  }

  /**
   * Adds a key (imports it now). Adding the same record again is a no-op.
   * @throws {@link CivicError} `E_KEY_CONFLICT` when the id is bound to another key
   */
  async add(record: KeyRecord): Promise<void> {
    if (this.#known(record)) return;
    this.#keys.set(record.key_id, { record, key: await importVerifyingKey(this.#backend, recordPublicKey(record)) });
  }

  /** {@link add} for a ring over a synchronous backend. */
  addSync(record: KeyRecord): void {
    if (this.#known(record)) return;
    this.#keys.set(record.key_id, { record, key: importVerifyingKeySync(this.#backend as SyncEd25519Backend, recordPublicKey(record)) });
  }

  /** True when the id is present with the same key; throws when it is present with another. */
  #known(record: KeyRecord): boolean {
    const existing = this.#keys.get(record.key_id);
    if (existing === undefined) return false;
    if (existing.record.public_key !== record.public_key) {
      throw fail('E_KEY_CONFLICT', `Cannot add key ${record.key_id}: the ring already binds that id to fingerprint ${existing.record.fingerprint}, not ${record.fingerprint}`);
    }
    return true;
  }

  /** The trusted key with this id, or undefined. */
  get(keyId: string): TrustedKey | undefined {
    return this.#keys.get(keyId);
  }

  /** Every record, in insertion order. */
  records(): KeyRecord[] {
    return [...this.#keys.values()].map((k) => k.record);
  }
}
// #endregion key-ring
