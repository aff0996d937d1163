/**
 * Hashing and canonical bytes (week 7): lowercase hex, SHA-256 one shot and streamed,
 * RFC 8785 JCS canonical JSON, the strict I-JSON parser, the hash-bearing message,
 * the integrity manifest and audit, and the `hash` command group.
 * @module hashing
 * @category Week 07
 */
export {
  HASH_ERRORS,
  toHex, fromHex, isSha256Hex, bytesEqual,
  SHA256_BYTES, sha256, sha256Hex, createSha256, chunksOf, hashStream,
  DEFAULT_MAX_JSON_DEPTH, canonicalize, canonicalBytes, escapeJsonString, loneSurrogateAt,
  parseStrictJson, invalidUtf8At,
  HASHED_MESSAGE_VERSION, KNOWN_MESSAGE_VERSIONS, frameHashedMessage, readHashedMessage,
  MANIFEST_NAME, isManifestPath, createManifest, encodeManifest, parseManifest, judgeEntry, summarizeAudit,
  FILE_CHUNK_BYTES, nodeSha256, createNodeSha256, hashFile, hashNodeStream,
  buildManifest, writeManifest, locateManifest, auditManifest,
  startHashedEchoServer,
  HASH_COMMANDS, WEEK7_CLI,
} from '../weeks/week-07-hashing/mod.ts';
export type {
  HashErrorCode,
  IncrementalHash, ByteSource, StreamDigest,
  StrictJsonOptions,
  LegacyPolicy, DigestFunction, ReadMessage, ReadOptions,
  ManifestEntry, Manifest, AuditStatus, AuditFinding, AuditSummary,
  ManifestWritten, AuditReport,
  HashedEchoOptions, HashedEchoServer,
} from '../weeks/week-07-hashing/mod.ts';
