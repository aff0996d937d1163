/**
 * Week 7's public surface: lowercase hex, SHA-256 (pure and Node), RFC 8785 JCS
 * canonical JSON, the strict I-JSON parser, the hash-bearing message (version 2 of
 * week 2's message), the integrity manifest and audit, the `hash` command group and
 * the error catalog. `lib/hashing.ts` re-exports from here and nowhere else in this
 * folder.
 * @module
 */
export { HASH_ERRORS } from './catalog.ts';
export type { HashErrorCode } from './catalog.ts';
export { toHex, fromHex, isSha256Hex, bytesEqual } from './hex.ts';
export { SHA256_BYTES, sha256, sha256Hex, createSha256, chunksOf, hashStream } from './sha256.ts';
export type { IncrementalHash, ByteSource, StreamDigest } from './sha256.ts';
export { DEFAULT_MAX_JSON_DEPTH, canonicalize, canonicalBytes, escapeJsonString, loneSurrogateAt } from './jcs.ts';
export { parseStrictJson, invalidUtf8At } from './strict_json.ts';
export type { StrictJsonOptions } from './strict_json.ts';
export { HASHED_MESSAGE_VERSION, KNOWN_MESSAGE_VERSIONS, frameHashedMessage, readHashedMessage } from './hashed_message.ts';
export type { LegacyPolicy, DigestFunction, ReadMessage, ReadOptions } from './hashed_message.ts';
export { MANIFEST_NAME, isManifestPath, createManifest, encodeManifest, parseManifest, judgeEntry, summarizeAudit } from './manifest.ts';
export type { ManifestEntry, Manifest, AuditStatus, AuditFinding, AuditSummary } from './manifest.ts';
export { FILE_CHUNK_BYTES, nodeSha256, createNodeSha256, hashFile, hashNodeStream } from './node_hash.ts';
export { buildManifest, writeManifest, locateManifest, auditManifest } from './node_audit.ts';
export type { ManifestWritten, AuditReport } from './node_audit.ts';
export { startHashedEchoServer } from './node_hashed_echo.ts';
export type { HashedEchoOptions, HashedEchoServer } from './node_hashed_echo.ts';
export { HASH_COMMANDS, WEEK7_CLI } from './node_hash_cli.ts';
