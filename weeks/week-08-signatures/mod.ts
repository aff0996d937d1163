/**
 * Week 8's public surface: the Ed25519 backend interface and its three backends
 * (`node:crypto`, WebCrypto, noble), the strict key and signature policy, the
 * edge-case verdict table, key ids and the key ring with its verified-key cache, key
 * files, the replay window and nonce cache, signed envelope v1 and its verifier, the
 * signed echo handler, and the `key` and `envelope` command groups.
 * `lib/signing.ts` re-exports from here and nowhere else in this folder.
 * @module
 */
export { SIGN_ERRORS } from './catalog.ts';
export type { SignErrorCode } from './catalog.ts';
export {
  ED25519_SIZES, CURVE_ORDER, SMALL_ORDER_POINTS, isSyncBackend, publicKeyProblem, checkPublicKey, signatureProblem,
  importVerifyingKey, importVerifyingKeySync, verifyStrict, verifyStrictSync,
} from './ed25519.ts';
export type { BackendName, Awaitable, BackendPublicKey, BackendSecretKey, Ed25519Backend, SyncEd25519Backend, VerifyingKey } from './ed25519.ts';
export { NOBLE_BACKEND } from './noble_backend.ts';
export { WEBCRYPTO_BACKEND } from './webcrypto_backend.ts';
export { NODE_BACKEND } from './node_crypto_backend.ts';
export { describeCase, strictVerdict, verdictTable, agrees, formatVerdictTable } from './edge_table.ts';
export type { EdgeCase, StrictVerdict, RawVerdict, VerdictRow } from './edge_table.ts';
export { formatTimestamp, parseTimestamp } from './timestamp.ts';
export { encodeBase64url, decodeBase64url } from './_base64url.ts';
export { isKeyName, formatKeyId, parseKeyId, keyFingerprint, recordPublicKey, makeKeyRecord, parseKeyRecord, isValidAt, KeyRing } from './keys.ts';
export type { KeyIdParts, KeyRecord, TrustedKey } from './keys.ts';
export { DEFAULT_REPLAY_POLICY, checkWindow, NonceCache } from './replay.ts';
export type { ReplayPolicy, RecordOutcome } from './replay.ts';
export { encodeNonceEntry, encodeHorizon, parseNonceLog, shouldCompact } from './nonce_log.ts';
export type { NonceEntry, ParsedNonceLog } from './nonce_log.ts';
export { NONCE_LOG_FILE, DurableNonceCache } from './node_nonce_store.ts';
export {
  ENVELOPE_VERSION, NONCE_BYTES, ENVELOPE_FIELDS, VERIFY_CODES, signingBytes, webRandomBytes, signEnvelope, signEnvelopeSync,
  encodeSignedMessage, checkShape, EnvelopeVerifier,
} from './envelope.ts';
export type {
  SignedEnvelope, UnsignedEnvelope, RandomBytes, Signer, SyncSigner, SignRequest, SignOptions, VerifierOptions, VerifiedMessage, VerifierStats, PrecheckedMessage,
} from './envelope.ts';
export { signedEchoHandler } from './signed_handler.ts';
export type { VerdictListener } from './signed_handler.ts';
export {
  KEYRING_FILE, DEFAULT_OVERLAP_MS, keyFilePath, readKeyRecords, readKeyFile, listKeys, generateKey, rotateKey, loadSigner, loadKeyRing,
} from './node_key_store.ts';
export type { KeyInfo, KeyWriteOptions, Rotation } from './node_key_store.ts';
export { BACKENDS, KEY_COMMANDS, ENVELOPE_COMMANDS, WEEK8_CLI } from './node_sign_cli.ts';
