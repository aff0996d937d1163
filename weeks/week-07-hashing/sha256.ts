/**
 * SHA-256 in pure code (FIPS 180-4, through `@noble/hashes`): one shot, incremental,
 * and over a stream of chunks with memory bounded by one chunk. Runs unchanged in
 * Node, Deno and browsers; `node_hash.ts` has the faster OpenSSL path for Node.
 * @module
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex } from './hex.ts';

/** The length of a SHA-256 digest in bytes. */
export const SHA256_BYTES = 32;

/** An incremental hash: feed chunks with `update`, read the digest once with `digest`. */
export interface IncrementalHash {
  /** Adds bytes to the hash; returns the same object. */
  update(bytes: Uint8Array): IncrementalHash;
  /** Finishes the hash and returns the 32-byte digest; the object is spent afterwards. */
  digest(): Uint8Array;
}

/** The SHA-256 of `bytes`, as 32 bytes. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return nobleSha256(bytes);
}

/** The SHA-256 of `bytes`, as 64 lowercase hex digits (the `payload_hash` form). */
export function sha256Hex(bytes: Uint8Array): string {
  return toHex(nobleSha256(bytes));
}

/** A fresh incremental SHA-256. */
export function createSha256(): IncrementalHash {
  const inner = nobleSha256.create();
  const hash: IncrementalHash = {
    update(bytes) {
      inner.update(bytes);
      return hash;
    },
    digest: () => inner.digest(),
  };
  return hash;
}

/** Bytes arriving over time: a web `ReadableStream` or any async iterable of chunks. */
export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** The chunks of a source, one at a time, whichever kind it is. */
export async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (Symbol.asyncIterator in source) {
    yield* source as AsyncIterable<Uint8Array>;
    return;
  }
  // A ReadableStream without async iteration (older browsers): read it by hand.
  const reader = (source as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** What a streamed hash returns: the digest and how many bytes went into it. */
export interface StreamDigest {
  /** The 32-byte SHA-256. */
  readonly digest: Uint8Array;
  /** The number of bytes hashed. */
  readonly bytes: number;
}

// #region hash-stream
/**
 * Hashes a stream chunk by chunk. Each chunk is hashed and dropped before the next
 * is read, so memory stays at one chunk whatever the stream's length, and a slow
 * hash pulls the source no faster than it can digest (backpressure for free).
 * @param source - a web stream or an async iterable of byte chunks
 * @param hash - the hash to feed; pure SHA-256 unless the caller passes a faster one
 */
export async function hashStream(source: ByteSource, hash: IncrementalHash = createSha256()): Promise<StreamDigest> {
  let bytes = 0;
  for await (const chunk of chunksOf(source)) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { digest: hash.digest(), bytes };
}
// #endregion hash-stream
