/**
 * Week 7's error catalog: how strict JSON parsing, canonicalisation, digests, the
 * hash-bearing message and the integrity audit can fail, each with one stable code.
 *
 * How the exit statuses were chosen:
 *
 * - JSON that is not I-JSON (`E_JSON_*`) exits 3 (`data`): the input is refused as
 *   it stands, and the sender can fix it;
 * - bytes whose digest disagrees with the digest they came with (`E_HASH_MISMATCH`,
 *   `E_AUDIT_CORRUPT`) exit 8 (`integrity`): the right reaction is to distrust them;
 * - a message of a version or form the reader's policy refuses exits 3 (`data`).
 * @module
 */
import { defineErrors } from '../../lib/errors.ts';

// #region catalog
/** The error codes of the strict JSON parser, JCS, digests, hashed messages and the audit. */
export const HASH_ERRORS = defineErrors({
  E_JSON_SYNTAX: {
    exit: 'data', http: 400, definite: true,
    summary: 'The text is not JSON: an unexpected character, a bad escape, a bad number or an unfinished value',
    action: 'Fix the JSON at the offset given; the parser never guesses',
  },
  E_JSON_TRAILING: {
    exit: 'data', http: 400, definite: true,
    summary: 'A complete JSON value is followed by more than whitespace',
    action: 'Send exactly one JSON value per document',
  },
  E_JSON_DUPLICATE_MEMBER: {
    exit: 'data', http: 400, definite: true,
    summary: 'An object names the same member twice (I-JSON forbids it; JSON.parse would keep the last one)',
    action: 'Remove the duplicate member; a signed or hashed document must have exactly one meaning',
  },
  E_JSON_LONE_SURROGATE: {
    exit: 'data', http: 400, definite: true,
    summary: 'A string or member name holds an unpaired UTF-16 surrogate, which is not Unicode text',
    action: 'Send well-formed Unicode; binary data belongs in base64, not in JSON strings',
  },
  E_JSON_NUMBER_RANGE: {
    exit: 'data', http: 400, definite: true,
    summary: 'A number is not a finite IEEE-754 double (overflow such as 1e400, NaN or Infinity)',
    action: 'Keep numbers within the double range; send larger values as strings',
  },
  E_JSON_BAD_UTF8: {
    exit: 'data', http: 400, definite: true,
    summary: 'The input bytes are not valid UTF-8 (or start with a byte order mark)',
    action: 'Encode the document as UTF-8 without a byte order mark',
  },
  E_JSON_TOO_DEEP: {
    exit: 'data', http: 400, definite: true,
    summary: 'Arrays and objects are nested deeper than the limit',
    action: 'Flatten the document, or raise maxDepth if the depth is legitimate',
  },
  E_JSON_UNSUPPORTED_VALUE: {
    exit: 'data', http: 400, definite: true,
    summary: 'A value has no JSON form: undefined, a function, a bigint, a symbol, a sparse array slot or a non-plain object',
    action: 'Convert the value to plain JSON data (objects, arrays, strings, finite numbers, booleans, null) first',
  },
  E_HASH_MISMATCH: {
    exit: 'integrity', http: 400, definite: true,
    summary: 'The SHA-256 of the payload bytes differs from the payload_hash that came with them',
    action: 'Do not use the payload; resend it, and check what altered the bytes on the way',
  },
  E_HASH_MALFORMED: {
    exit: 'data', http: 400, definite: true,
    summary: 'A digest is not 64 lowercase hexadecimal characters, or a hashed message header is malformed',
    action: 'Write digests as lowercase hex SHA-256; check that both ends speak the same message version',
  },
  E_HASH_UNHASHED: {
    exit: 'data', http: 400, definite: true,
    summary: 'A message without payload_hash (version 1) arrived where the policy requires a hashed one',
    action: 'Upgrade the sender to message version 2, or run the reader with the legacy policy "accept"',
  },
  E_AUDIT_CORRUPT: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'A stored file no longer has the digest or size its manifest records',
    action: 'Restore the file from a good copy; the audit report names the file, expected and actual digests',
  },
  E_AUDIT_MISSING: {
    exit: 'integrity', http: 500, definite: true,
    summary: 'A file listed in the manifest is gone',
    action: 'Restore the file from a good copy, or rebuild the manifest if the removal was intended',
  },
  E_AUDIT_MANIFEST: {
    exit: 'data', http: 400, definite: true,
    summary: 'The manifest is not a valid CivicTrust manifest (strict JSON, version 1, sha256, relative paths)',
    action: 'Rebuild it with "civictrust hash manifest DIR"',
  },
});
// #endregion catalog

/** One of week 7's error codes. */
export type HashErrorCode = keyof typeof HASH_ERRORS;
