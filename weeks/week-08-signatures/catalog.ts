/**
 * Week 8's error catalog: every way a key, a signature or a signed envelope can be
 * refused, each with one stable code.
 *
 * How the exit statuses were chosen:
 *
 * - evidence that does not verify (`E_SIG_*`, `E_REPLAY`, `E_TIMESTAMP_*`, an unknown
 *   or out-of-window key) exits 8 (`integrity`): the message must not be trusted;
 * - an envelope or key that is malformed, of an unknown version or cryptographically
 *   weak exits 3 (`data`): the sender has to fix what it sends;
 * - a private key file others can read exits 5 (`permission`), like any other access
 *   problem the operator fixes with `chmod`;
 * - a full replay cache exits 7 (`unavailable`): the request was fine, the server is
 *   overloaded, and a retry with a fresh nonce later may pass.
 *
 * Every refusal is definite: a message that fails verification was never processed.
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

// #region catalog
/** The error codes of keys, signatures, signed envelopes and the replay defence. */
export const SIGN_ERRORS = defineErrors({
  E_SIG_MISSING: {
    exit: 'integrity', http: 401, definite: true,
    summary: 'The message carries no signature or no key id, and unsigned messages are refused by default',
    action: 'Sign the message (civictrust envelope sign) before sending it',
  },
  E_SIG_INVALID: {
    exit: 'integrity', http: 401, definite: true,
    summary: 'The signature does not verify for these bytes and this key, or the payload does not match its signed hash',
    action: 'Do not trust the message; check that the sender used the key named by key_id and sent the payload unaltered',
  },
  E_REPLAY: {
    exit: 'integrity', http: 409, definite: true,
    summary: 'This (key_id, nonce) pair was already accepted once: the message is a replay',
    action: 'Send a new message with a fresh nonce; a signed message is accepted at most once',
  },
  E_REPLAY_CACHE_FULL: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'The replay cache is full of nonces still inside the time window, so no new nonce can be remembered',
    action: 'Retry later with a fresh nonce, or ask the operator to raise the replay cache size',
  },
  E_REPLAY_STORE_CORRUPT: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'A complete entry of the durable nonce store fails its checksum, so the nonces it held cannot be trusted; the node refuses to start rather than forget them',
    action: 'Keep the node stopped until the replay window (--max-age-ms) has passed since it last ran, then move the damaged file aside and start it again',
  },
  E_REPLAY_STORE_IO: {
    exit: 'io', http: 503, definite: false,
    summary: 'The durable nonce store could not be read, written or synced, so a nonce could not be remembered across a restart',
    action: 'Check the data directory (path, permissions, free space); the request was refused and may be sent again with a fresh nonce',
  },
  E_TIMESTAMP_EXPIRED: {
    exit: 'integrity', http: 401, definite: true,
    summary: 'The message timestamp is older than the accepted window',
    action: 'Check the sender clock, then send a new message with a current timestamp',
  },
  E_TIMESTAMP_FUTURE: {
    exit: 'integrity', http: 401, definite: true,
    summary: 'The message timestamp is further in the future than the allowed clock skew',
    action: 'Synchronise the sender clock (NTP) and send a new message',
  },
  E_ENVELOPE_MALFORMED: {
    exit: 'data', http: 400, definite: true,
    summary: 'The signed envelope is not well formed: a field is missing, extra, of the wrong type or badly encoded',
    action: 'Send the exact signed envelope v1 field set; the message says which field is wrong',
  },
  E_ENVELOPE_OVERSIZE: {
    exit: 'data', http: 413, definite: true,
    summary: 'The signed message or its header is larger than the verifier accepts',
    action: 'Send a smaller payload, or ask the operator to raise the limit',
  },
  E_ENVELOPE_VERSION: {
    exit: 'data', http: 400, definite: true,
    summary: 'The envelope names a version this verifier does not implement',
    action: 'Send envelope version 1, or upgrade the verifier',
  },
  E_KEY_UNKNOWN: {
    exit: 'integrity', http: 401, definite: true,
    summary: 'No trusted key has the key id the message names',
    action: 'Add the sender public key to the verifier key ring, or check the key_id for a typo',
  },
  E_KEY_NOT_VALID: {
    exit: 'integrity', http: 401, definite: true,
    summary: 'The key was not valid at the message timestamp: before its not_before or at or after its not_after',
    action: 'Sign with the current key version (civictrust key list shows the windows)',
  },
  E_KEY_WEAK: {
    exit: 'data', http: 400, definite: true,
    summary: 'The public key is of small or mixed order, the identity, or not canonically encoded, so it is refused',
    action: 'Generate a fresh key with civictrust key gen; such keys let one signature verify for many messages',
  },
  E_KEY_MALFORMED: {
    exit: 'data', http: 400, definite: true,
    summary: 'A key, key file or key ring is not well formed',
    action: 'Regenerate the key or restore the key ring from a backup; the message names the bad field',
  },
  E_KEY_PERMISSIONS: {
    exit: 'permission', http: 500, definite: true,
    summary: 'A private key file can be read by its group or by other users, so it is not loaded',
    action: 'Restrict it to its owner: chmod 600 on the file named in the message',
  },
  E_KEY_NOT_FOUND: {
    exit: 'notFound', http: 404, definite: true,
    summary: 'No key of that name or id exists in the key directory',
    action: 'Run civictrust key list to see the keys, or civictrust key gen to create one',
  },
  E_KEY_EXISTS: {
    exit: 'data', http: 409, definite: true,
    summary: 'A key of that name already exists, and keys are never overwritten',
    action: 'Use civictrust key rotate to make a new version, or pick another name',
  },
  E_KEY_CONFLICT: {
    exit: 'integrity', http: 409, definite: true,
    summary: 'One key id is bound to two different public keys',
    action: 'Key ids are never reused: find which copy of the key ring was altered',
  },
  E_KEY_BACKEND: {
    exit: 'unavailable', http: 503, definite: true,
    summary: 'The chosen Ed25519 backend is not available in this runtime',
    action: 'Pick another backend (node, webcrypto, noble) or upgrade the runtime',
  },
});
// #endregion catalog

/** A code from week 8's catalog. */
export type SignErrorCode = keyof typeof SIGN_ERRORS;
