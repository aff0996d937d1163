/**
 * Ed25519 signatures and replay defence (week 8): one backend interface over
 * `node:crypto`, WebCrypto and noble with a strict RFC 8032 policy, the edge-case
 * verdict table, versioned key ids, key files and rotation, the nonce cache and time
 * window, signed envelope v1 and its verifier, the signed echo handler, and the `key`
 * and `envelope` command groups.
 * @module signing
 * @category Week 08
 */
export {
  SIGN_ERRORS,
  ED25519_SIZES, CURVE_ORDER, SMALL_ORDER_POINTS, isSyncBackend, publicKeyProblem, checkPublicKey, signatureProblem,
  importVerifyingKey, importVerifyingKeySync, verifyStrict, verifyStrictSync,
  NOBLE_BACKEND, WEBCRYPTO_BACKEND, NODE_BACKEND,
  describeCase, strictVerdict, verdictTable, agrees, formatVerdictTable,
  formatTimestamp, parseTimestamp, encodeBase64url, decodeBase64url,
  isKeyName, formatKeyId, parseKeyId, keyFingerprint, recordPublicKey, makeKeyRecord, parseKeyRecord, isValidAt, KeyRing,
  DEFAULT_REPLAY_POLICY, checkWindow, NonceCache, encodeNonceEntry, encodeHorizon, parseNonceLog, shouldCompact, NONCE_LOG_FILE, DurableNonceCache,
  ENVELOPE_VERSION, NONCE_BYTES, ENVELOPE_FIELDS, VERIFY_CODES, signingBytes, webRandomBytes, signEnvelope, signEnvelopeSync,
  encodeSignedMessage, checkShape, EnvelopeVerifier,
  signedEchoHandler,
  KEYRING_FILE, DEFAULT_OVERLAP_MS, keyFilePath, readKeyRecords, readKeyFile, listKeys, generateKey, rotateKey, loadSigner, loadKeyRing,
  BACKENDS, KEY_COMMANDS, ENVELOPE_COMMANDS, WEEK8_CLI,
} from '../weeks/week-08-signatures/mod.ts';
export type {
  SignErrorCode,
  BackendName, Awaitable, BackendPublicKey, BackendSecretKey, Ed25519Backend, SyncEd25519Backend, VerifyingKey,
  EdgeCase, StrictVerdict, RawVerdict, VerdictRow,
  KeyIdParts, KeyRecord, TrustedKey,
  ReplayPolicy, RecordOutcome, NonceEntry, ParsedNonceLog,
  SignedEnvelope, UnsignedEnvelope, RandomBytes, Signer, SyncSigner, SignRequest, SignOptions, VerifierOptions, VerifiedMessage, VerifierStats, PrecheckedMessage,
  VerdictListener,
  KeyInfo, KeyWriteOptions, Rotation,
} from '../weeks/week-08-signatures/mod.ts';
