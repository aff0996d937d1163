/**
 * Signed envelope v1: the eight fields of the envelope contract (`docs/architecture.md`),
 * how they are signed, how a signed message travels, and the verification pipeline with
 * its cheap-reject order.
 *
 * ```
 *  signed message = header (JSON, one line) ‖ "\n" ‖ payload bytes
 *  header = { version: 1, msg_type, request_id, timestamp, nonce, payload_hash, signature, key_id }
 *  signature = Ed25519(JCS(header without signature))       (RFC 8785, RFC 8032)
 *  payload_hash = lowercase hex SHA-256 of the payload bytes (week 7's form)
 * ```
 *
 * Encodings: `timestamp` is RFC 3339 UTC with milliseconds; `nonce` is 16 random
 * bytes in base64url without padding (22 characters); `signature` is 64 bytes in
 * base64url (86 characters); `key_id` is `<name>-v<N>`; `request_id` follows week 2's
 * rule; `msg_type` is 1-64 of `a-z 0-9 _ . -`, starting with a letter.
 *
 * The header is parsed with the strict I-JSON parser, so a header with two
 * `payload_hash` members (one signed, one forged) is refused, not half-read.
 * @module
 */
import type { Clock } from '../../lib/clock.ts';
import { errorFactory, isCivicError } from '../../lib/errors.ts';
import { isRequestId } from '../../lib/framing.ts';
import { canonicalBytes, canonicalize, isSha256Hex, parseStrictJson, sha256Hex } from '../../lib/hashing.ts';
import { decodeBase64url, encodeBase64url } from './_base64url.ts';
import { SIGN_ERRORS, type SignErrorCode } from './catalog.ts';
import { isSyncBackend, verifyStrict, verifyStrictSync, type BackendSecretKey, type Ed25519Backend, type SyncEd25519Backend } from './ed25519.ts';
import { isValidAt, type KeyRing, type TrustedKey } from './keys.ts';
import { checkWindow, type NonceCache } from './replay.ts';
import { formatTimestamp, parseTimestamp } from './timestamp.ts';

const fail = errorFactory(SIGN_ERRORS);
const encoder = new TextEncoder();
const NEWLINE = 0x0a;

/** The envelope version this module writes and reads. */
export const ENVELOPE_VERSION = 1;

/** Bytes of randomness in a nonce. */
export const NONCE_BYTES = 16;

// #region envelope-type
/** A signed envelope, version 1: exactly these eight fields (`docs/architecture.md`, "The signed envelope"). */
export interface SignedEnvelope {
  /** Always 1. */
  readonly version: 1;
  /** What the payload is, e.g. `echo` or `doc.issue`. */
  readonly msg_type: string;
  /** The request's id (week 2's rule); replies repeat it. */
  readonly request_id: string;
  /** When the sender signed it: RFC 3339 UTC with milliseconds. */
  readonly timestamp: string;
  /** 16 random bytes, base64url: with `key_id`, what makes the message unique. */
  readonly nonce: string;
  /** Lowercase hex SHA-256 of the payload bytes. */
  readonly payload_hash: string;
  /** Ed25519 over the JCS bytes of every other field, base64url. */
  readonly signature: string;
  /** The signing key, `<name>-v<N>`. */
  readonly key_id: string;
}

/** The fields the signature covers: everything but the signature itself. */
export type UnsignedEnvelope = Omit<SignedEnvelope, 'signature'>;
// #endregion envelope-type

/** The field names of envelope v1, in the order they are written. */
export const ENVELOPE_FIELDS = ['version', 'msg_type', 'request_id', 'timestamp', 'nonce', 'payload_hash', 'signature', 'key_id'] as const;

const MSG_TYPE = /^[a-z][a-z0-9_.-]{0,63}$/;

// #region signing-bytes
/** The bytes the signature covers: RFC 8785 JCS of the envelope without `signature`. */
export function signingBytes(envelope: UnsignedEnvelope): Uint8Array {
  return canonicalBytes({
    version: envelope.version,
    msg_type: envelope.msg_type,
    request_id: envelope.request_id,
    timestamp: envelope.timestamp,
    nonce: envelope.nonce,
    payload_hash: envelope.payload_hash,
    key_id: envelope.key_id,
  });
}
// #endregion signing-bytes

/** Returns `n` cryptographically random bytes. Injected so tests can fix nonces. */
export type RandomBytes = (n: number) => Uint8Array;

/** Random bytes from the runtime's CSPRNG (`crypto.getRandomValues`, web-standard). */
export function webRandomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/** Who signs: a key id and the secret key imported into a backend. */
export interface Signer {
  /** The key id written into `key_id`. */
  readonly keyId: string;
  /** The backend holding the secret key. */
  readonly backend: Ed25519Backend;
  /** The imported secret key. */
  readonly secret: BackendSecretKey;
}

/** A {@link Signer} whose backend signs without a promise. */
export interface SyncSigner extends Signer {
  /** A synchronous backend. */
  readonly backend: SyncEd25519Backend;
}

/** What to sign. */
export interface SignRequest {
  /** The envelope's `msg_type`. */
  readonly msgType: string;
  /** The envelope's `request_id`. */
  readonly requestId: string;
  /** The payload bytes (sent after the header, hashed into `payload_hash`). */
  readonly payload: Uint8Array;
}

/** The signer's clock and randomness. */
export interface SignOptions {
  /** Stamps `timestamp`. */
  readonly clock: Clock;
  /** Draws the nonce (default {@link webRandomBytes}). */
  readonly random?: RandomBytes;
}

/** Builds the unsigned envelope, checking every field the signer controls. */
function unsignedEnvelope(request: SignRequest, signer: Signer, options: SignOptions): UnsignedEnvelope {
  if (!MSG_TYPE.test(request.msgType)) throw fail('E_ENVELOPE_MALFORMED', `Cannot sign: msg_type ${JSON.stringify(request.msgType)} is not 1-64 of a-z 0-9 _ . -`);
  if (!isRequestId(request.requestId)) throw fail('E_ENVELOPE_MALFORMED', `Cannot sign: request_id ${JSON.stringify(request.requestId)} is not a valid request id`);
  return {
    version: ENVELOPE_VERSION,
    msg_type: request.msgType,
    request_id: request.requestId,
    timestamp: formatTimestamp(options.clock.now()),
    nonce: encodeBase64url((options.random ?? webRandomBytes)(NONCE_BYTES)),
    payload_hash: sha256Hex(request.payload),
    key_id: signer.keyId,
  };
}

/**
 * Signs a payload into an envelope v1.
 * @returns the envelope; send it with {@link encodeSignedMessage}
 * @throws {@link CivicError} `E_ENVELOPE_MALFORMED` for a bad `msgType` or `requestId`
 */
export async function signEnvelope(request: SignRequest, signer: Signer, options: SignOptions): Promise<SignedEnvelope> {
  const unsigned = unsignedEnvelope(request, signer, options);
  const signature = await signer.backend.sign(signingBytes(unsigned), signer.secret);
  return { ...unsigned, signature: encodeBase64url(signature) };
}

/** {@link signEnvelope} with a synchronous backend, without a promise. */
export function signEnvelopeSync(request: SignRequest, signer: SyncSigner, options: SignOptions): SignedEnvelope {
  const unsigned = unsignedEnvelope(request, signer, options);
  return { ...unsigned, signature: encodeBase64url(signer.backend.sign(signingBytes(unsigned), signer.secret)) };
}

/** The wire form: the header as one JCS line, a newline, then the payload bytes. Tests pass altered headers as plain records. */
export function encodeSignedMessage(envelope: SignedEnvelope | Readonly<Record<string, unknown>>, payload: Uint8Array): Uint8Array {
  const header = encoder.encode(canonicalize(envelope));
  const out = new Uint8Array(header.length + 1 + payload.length);
  out.set(header, 0);
  out[header.length] = NEWLINE;
  out.set(payload, header.length + 1);
  return out;
}

/** The verifier's limits and collaborators. */
export interface VerifierOptions {
  /** The trusted keys (and their imported forms). */
  readonly keys: KeyRing;
  /** The nonce cache; its policy holds the time window. */
  readonly replay: NonceCache;
  /** The verifier's clock. */
  readonly clock: Clock;
  /** The largest whole signed message accepted. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** The largest header accepted. Default 1024 bytes (a v1 header is about 330). */
  readonly maxHeaderBytes?: number;
}

/** A message that passed every check. */
export interface VerifiedMessage {
  /** The envelope. */
  readonly envelope: SignedEnvelope;
  /** The payload bytes, whose SHA-256 matched `payload_hash`. */
  readonly payload: Uint8Array;
  /** The timestamp, ms since the epoch. */
  readonly timestampMs: number;
}

/**
 * A message that passed steps 1 to 6 (everything but the curve math) and waits for
 * {@link EnvelopeVerifier.complete}. Nothing in it is proven yet: the signature is
 * unchecked and the nonce unrecorded, so treat every field as a claim.
 */
export interface PrecheckedMessage {
  /** The envelope as sent (its signature not yet verified). */
  readonly envelope: SignedEnvelope;
  /** The payload bytes, whose SHA-256 matched `payload_hash`. */
  readonly payload: Uint8Array;
  /** The timestamp, ms since the epoch, inside the window. */
  readonly timestampMs: number;
}

/** Everything the checks before the curve math established. */
interface Prechecked extends PrecheckedMessage {
  readonly trusted: TrustedKey;
  readonly signature: Uint8Array;
  readonly now: number;
}

/** Counts of outcomes since the verifier was made. */
export interface VerifierStats {
  /** Messages accepted. */
  readonly accepted: number;
  /** Messages refused, by code. */
  readonly rejected: Readonly<Record<string, number>>;
  /** Signature verifications run (the curve math): refusals before it cost none. */
  readonly curveChecks: number;
}

// #region verifier
/**
 * Verifies signed messages, fail closed: anything not proven good is refused with a
 * code, and nothing about a refused message is remembered.
 *
 * The checks run cheapest first, so a flood of junk costs little:
 *
 * 1. size and shape: byte limits, the header line, strict JSON, an object;
 * 2. version: exactly 1 (`E_ENVELOPE_VERSION`); then signed at all (`E_SIG_MISSING`)
 *    and the exact v1 field set with valid encodings (`E_ENVELOPE_MALFORMED`);
 * 3. key id known (`E_KEY_UNKNOWN`): one map lookup, in the verified-key cache;
 * 4. time window (`E_TIMESTAMP_EXPIRED`, `_FUTURE`), then the key's own validity
 *    window at that timestamp (`E_KEY_NOT_VALID`);
 * 5. nonce not seen (`E_REPLAY`), and room to remember it (`E_REPLAY_CACHE_FULL`);
 * 6. payload hash: one SHA-256 over the payload (`E_SIG_INVALID`: the signature vouches
 *    for the payload only through this hash);
 * 7. the curve math, under the strict policy (`E_SIG_INVALID`);
 * 8. only now record the nonce. Recording earlier would let anyone who saw a nonce
 *    burn it with a forged message, so the genuine one would later be refused as a
 *    replay; and would let junk fill the cache.
 */
export class EnvelopeVerifier {
  readonly #keys: KeyRing;
  readonly #replay: NonceCache;
  readonly #clock: Clock;
  readonly #maxMessageBytes: number;
  readonly #maxHeaderBytes: number;
  #accepted = 0;
  #curveChecks = 0;
  readonly #rejected: Record<string, number> = {};
  /** Pre-checked messages not yet completed: {@link complete} accepts only these. */
  readonly #issued = new WeakSet<PrecheckedMessage>();

  /** @param options - keys, nonce cache, clock and limits */
  constructor(options: VerifierOptions) {
    this.#keys = options.keys;
    this.#replay = options.replay;
    this.#clock = options.clock;
    this.#maxMessageBytes = options.maxMessageBytes ?? 1024 * 1024;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? 1024;
  }

  /**
   * Verifies one signed message: {@link precheck}, then {@link complete}.
   * @returns the envelope and payload, once the nonce is recorded
   * @throws {@link CivicError} with one of the codes listed on the class, or `E_JSON_*`
   *   from the strict parser
   */
  async verify(message: Uint8Array): Promise<VerifiedMessage> {
    return this.complete(this.precheck(message));
  }

  /**
   * Steps 1 to 6 alone: the cheap checks, with no curve math and nothing recorded. A
   * server can put its admission decision between this and {@link complete}, so that
   * work it would refuse anyway never costs a signature verification.
   * @returns the message, to hand to {@link complete} of this same verifier
   * @throws {@link CivicError} as {@link verify} does, for the codes before `E_SIG_INVALID`'s curve check
   */
  precheck(message: Uint8Array): PrecheckedMessage {
    try {
      const checked = this.#precheck(message);
      this.#issued.add(checked);
      return checked;
    } catch (error) {
      throw this.#count(error);
    }
  }

  /**
   * Steps 7 and 8 for a message {@link precheck} passed: the curve math, then the nonce.
   * Each pre-checked message completes at most once.
   * @throws TypeError for a message this verifier did not pre-check, or one already completed
   * @throws {@link CivicError} `E_SIG_INVALID`, `E_REPLAY` (a copy completed first) or `E_REPLAY_CACHE_FULL`
   */
  async complete(message: PrecheckedMessage): Promise<VerifiedMessage> {
    const checked = this.#claim(message);
    try {
      this.#curveChecks += 1;
      const ok = await verifyStrict(checked.signature, signingBytes(checked.envelope), checked.trusted.key);
      return this.#finish(checked, ok);
    } catch (error) {
      throw this.#count(error);
    }
  }

  /**
   * {@link verify} without a promise; the key ring must sit on a synchronous backend.
   * @throws TypeError when it does not
   */
  verifySync(message: Uint8Array): VerifiedMessage {
    if (!isSyncBackend(this.#keys.backend)) throw new TypeError(`backend ${this.#keys.backend.name} has no synchronous verify`);
    const checked = this.#claim(this.precheck(message));
    try {
      this.#curveChecks += 1;
      const ok = verifyStrictSync(checked.signature, signingBytes(checked.envelope), checked.trusted.key);
      return this.#finish(checked, ok);
    } catch (error) {
      throw this.#count(error);
    }
  }

  /** Outcome counts. */
  stats(): VerifierStats {
    return { accepted: this.#accepted, rejected: { ...this.#rejected }, curveChecks: this.#curveChecks };
  }

  /** Takes back a message this verifier pre-checked; each one only once. */
  #claim(message: PrecheckedMessage): Prechecked {
    if (!this.#issued.delete(message)) throw new TypeError('complete() takes a message precheck() of this verifier returned, once');
    return message as Prechecked;
  }

  /** Counts a refusal by its code and hands the error back. */
  #count(error: unknown): unknown {
    const code = isCivicError(error) ? error.code : 'uncoded';
    this.#rejected[code] = (this.#rejected[code] ?? 0) + 1;
    return error;
  }

  /** Steps 1 to 6: everything before the curve math. */
  #precheck(message: Uint8Array): Prechecked {
    // 1. Size and shape. Everything here is attacker-controlled and unauthenticated.
    if (message.length > this.#maxMessageBytes) throw fail('E_ENVELOPE_OVERSIZE', `Cannot verify message: ${message.length} bytes exceeds max ${this.#maxMessageBytes}`);
    const newline = message.subarray(0, this.#maxHeaderBytes + 1).indexOf(NEWLINE);
    if (newline < 0) {
      throw message.length > this.#maxHeaderBytes
        ? fail('E_ENVELOPE_OVERSIZE', `Cannot verify message: no header line within ${this.#maxHeaderBytes} bytes`)
        : fail('E_ENVELOPE_MALFORMED', 'Cannot verify message: no newline after the header');
    }
    const header = parseStrictJson(message.subarray(0, newline));
    if (typeof header !== 'object' || header === null || Array.isArray(header)) throw fail('E_ENVELOPE_MALFORMED', 'Cannot verify message: the header is not a JSON object');
    const fields = header as Record<string, unknown>;
    // 2. Version, signed at all, exact field set.
    if (fields.version !== ENVELOPE_VERSION) throw fail('E_ENVELOPE_VERSION', `Cannot verify message: envelope version ${JSON.stringify(fields.version)} is not supported (expected 1)`);
    if (fields.signature === undefined || fields.key_id === undefined) throw fail('E_SIG_MISSING', 'Cannot accept message: it is not signed (no signature or key_id)');
    const envelope = checkShape(fields);
    const signature = decodeBase64url(envelope.signature) as Uint8Array;
    // 3. Key id known: a lookup in the verified-key cache.
    const trusted = this.#keys.get(envelope.key_id);
    if (trusted === undefined) throw fail('E_KEY_UNKNOWN', `Cannot verify message: no trusted key has id ${envelope.key_id}`);
    // 4. Time window, then the key's validity at that time.
    const timestampMs = parseTimestamp(envelope.timestamp) as number;
    const now = this.#clock.now();
    checkWindow(timestampMs, now, this.#replay.policy, this.#replay.horizon);
    if (!isValidAt(trusted.record, timestampMs)) {
      throw fail('E_KEY_NOT_VALID', `Cannot verify message: key ${envelope.key_id} is valid from ${trusted.record.not_before} until ${trusted.record.not_after ?? 'further notice'}, not at ${envelope.timestamp}`);
    }
    // 5. Nonce not seen (a lookup, nothing recorded yet), and room to record it.
    if (this.#replay.has(envelope.key_id, envelope.nonce)) throw fail('E_REPLAY', `Cannot accept message: nonce ${envelope.nonce} of key ${envelope.key_id} was already used`);
    if (!this.#replay.hasRoom(now)) throw fail('E_REPLAY_CACHE_FULL', `Cannot accept message: the replay cache holds ${this.#replay.size} live nonces`);
    // 6. Payload hash.
    const payload = message.subarray(newline + 1);
    if (sha256Hex(payload) !== envelope.payload_hash) throw fail('E_SIG_INVALID', 'Cannot accept message: the payload does not match the signed payload_hash');
    return { envelope, payload, timestampMs, trusted, signature, now };
  }

  /** Steps 7 and 8: the verdict of the curve math, then the nonce. */
  #finish(checked: Prechecked, ok: boolean): VerifiedMessage {
    const { envelope } = checked;
    if (!ok) throw fail('E_SIG_INVALID', `Cannot accept message: the signature does not verify with key ${envelope.key_id}`);
    const outcome = this.#replay.record(envelope.key_id, envelope.nonce, checked.timestampMs, checked.now);
    // Two copies verified at once (possible with an async backend): the second loses here.
    if (outcome === 'duplicate') throw fail('E_REPLAY', `Cannot accept message: nonce ${envelope.nonce} of key ${envelope.key_id} was already used`);
    if (outcome === 'full') throw fail('E_REPLAY_CACHE_FULL', `Cannot accept message: the replay cache holds ${this.#replay.size} live nonces`);
    this.#accepted += 1;
    return { envelope, payload: checked.payload, timestampMs: checked.timestampMs };
  }
}
// #endregion verifier

// #region check-shape
/**
 * Checks that a parsed header is exactly an envelope v1: the eight fields, no others,
 * each of the right type and encoding.
 * @throws {@link CivicError} `E_ENVELOPE_MALFORMED` naming the first bad field
 */
export function checkShape(fields: Readonly<Record<string, unknown>>): SignedEnvelope {
  const bad = (why: string) => fail('E_ENVELOPE_MALFORMED', `Cannot verify message: ${why}`);
  for (const name of Object.keys(fields)) {
    if (!(ENVELOPE_FIELDS as readonly string[]).includes(name)) throw bad(`unknown field ${JSON.stringify(name)}`);
  }
  for (const name of ENVELOPE_FIELDS) {
    if (name !== 'version' && typeof fields[name] !== 'string') throw bad(`field ${name} is missing or not a string`);
  }
  const f = fields as unknown as SignedEnvelope;
  if (!MSG_TYPE.test(f.msg_type)) throw bad('msg_type is not 1-64 of a-z 0-9 _ . -');
  if (!isRequestId(f.request_id)) throw bad('request_id is not a valid request id');
  if (parseTimestamp(f.timestamp) === undefined) throw bad('timestamp is not RFC 3339 UTC with milliseconds');
  if (decodeBase64url(f.nonce)?.length !== NONCE_BYTES) throw bad(`nonce is not ${NONCE_BYTES} bytes of base64url`);
  if (!isSha256Hex(f.payload_hash)) throw bad('payload_hash is not 64 lowercase hex digits');
  if (decodeBase64url(f.signature)?.length !== 64) throw bad('signature is not 64 bytes of base64url');
  if (!/^[a-z][a-z0-9-]{0,31}-v[1-9][0-9]{0,5}$/.test(f.key_id)) throw bad('key_id is not <name>-v<N>');
  return f;
}
// #endregion check-shape

/** The codes {@link EnvelopeVerifier} refuses with (besides the strict parser's `E_JSON_*`). */
export const VERIFY_CODES: readonly SignErrorCode[] = [
  'E_ENVELOPE_OVERSIZE', 'E_ENVELOPE_MALFORMED', 'E_ENVELOPE_VERSION', 'E_SIG_MISSING', 'E_KEY_UNKNOWN',
  'E_TIMESTAMP_EXPIRED', 'E_TIMESTAMP_FUTURE', 'E_KEY_NOT_VALID', 'E_REPLAY', 'E_REPLAY_CACHE_FULL', 'E_SIG_INVALID',
];
