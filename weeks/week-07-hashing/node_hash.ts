/**
 * SHA-256 through node:crypto (OpenSSL, with the CPU's SHA extensions where it has
 * them): one shot, incremental, and streamed from files and Node streams. Same
 * answers as the pure `sha256.ts`, several times faster on large inputs.
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { hashStream, type IncrementalHash, type StreamDigest } from './sha256.ts';

/** The read size for files: 64 KiB, the default of `fs.createReadStream`. */
export const FILE_CHUNK_BYTES = 64 * 1024;

/** The SHA-256 of `bytes` by node:crypto, as a plain 32-byte Uint8Array. */
export function nodeSha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** A fresh incremental SHA-256 backed by node:crypto. */
export function createNodeSha256(): IncrementalHash {
  const inner = createHash('sha256');
  const hash: IncrementalHash = {
    update(bytes) {
      inner.update(bytes);
      return hash;
    },
    digest: () => new Uint8Array(inner.digest()),
  };
  return hash;
}

// #region hash-file
/**
 * Hashes a file as a stream of `chunkBytes` reads: memory holds one chunk at a time
 * (plus the stream's small read-ahead), however large the file.
 * @param path - the file
 * @param options - `chunkBytes`, the size of each read (default 64 KiB)
 * @throws the `fs` error (ENOENT, EACCES, EISDIR) as raised; callers map it to a code
 */
export function hashFile(path: string, options: { chunkBytes?: number } = {}): Promise<StreamDigest> {
  const stream = createReadStream(path, { highWaterMark: options.chunkBytes ?? FILE_CHUNK_BYTES });
  return hashStream(stream, createNodeSha256());
}
// #endregion hash-file

/** Hashes a Node readable stream (stdin, a socket, a child's stdout) with node:crypto. */
export function hashNodeStream(stream: Readable): Promise<StreamDigest> {
  return hashStream(stream, createNodeSha256());
}
