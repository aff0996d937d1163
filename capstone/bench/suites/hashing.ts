/**
 * The `hashing` suite: week 7's digests and canonical JSON against their peers and limits.
 *
 * | figure | subject | peer / limit |
 * |---|---|---|
 * | SHA-256 64 B, 1 KiB, 1 MiB | `@noble/hashes` (the pure `sha256`) | node:crypto `createHash` (OpenSSL), peer |
 * | SHA-256 1 KiB, 1 MiB, WebCrypto | `crypto.subtle.digest` (awaited one by one) | node:crypto, peer |
 * | canonicalize 2 KiB document | `canonicalize` (RFC 8785) | `JSON.stringify` of the same object, limit |
 * | strict parse 2 KiB document | `parseStrictJson` | `JSON.parse`, limit |
 *
 * Inputs come from the run's seed. Before timing, every side's digest of the same
 * bytes must agree, and `canonicalize` must equal `JSON.stringify` of a key-sorted copy,
 * so a fast wrong answer fails the run.
 * @module
 */
import { createHash, webcrypto } from 'node:crypto';
import { canonicalize, parseStrictJson, sha256, toHex } from '../../../lib/hashing.ts';
import type { Figure, Suite, SuiteContext, Workload } from '../harness.ts';
import { seededBytes, seededRandom, seededText } from '../random.ts';

/** A synchronous workload running `fn` `ops` times per trial. */
function loop(label: string, ops: number, fn: () => unknown): Workload {
  return { label, prepare: () => ({ run() { for (let i = 0; i < ops; i++) fn(); } }) };
}

/** An asynchronous workload awaiting `fn` `ops` times per trial, one at a time. */
function awaitLoop(label: string, ops: number, fn: () => Promise<unknown>): Workload {
  return { label, prepare: () => ({ async run() { for (let i = 0; i < ops; i++) await fn(); } }) };
}

function nodeDigest(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

/** A seeded JSON document of roughly `size` bytes: nested objects, arrays, numbers, strings. */
function makeDocument(seed: number, size: number): Record<string, unknown> {
  const random = seededRandom(seed);
  const doc: Record<string, unknown> = {};
  let i = 0;
  while (JSON.stringify(doc).length < size) {
    doc[`${seededText(random, 6)}_${i}`] = i % 3 === 0
      ? { id: i, score: random() * 1000, tags: [seededText(random, 5), 'é€😂'], ok: i % 2 === 0, note: null }
      : i % 3 === 1 ? [i, -i / 7, seededText(random, 12)] : seededText(random, 24);
    i++;
  }
  return doc;
}

/** Sorts object keys recursively: JSON.stringify of the result is JCS for ASCII-safe data. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
}

/** The `hashing` suite. */
export const HASHING_SUITE: Suite = {
  name: 'hashing',
  title: 'SHA-256 (noble, node:crypto, WebCrypto) and RFC 8785 canonical JSON vs JSON.stringify',
  figures(ctx: SuiteContext): Figure[] {
    const random = seededRandom(ctx.seed);
    const sizes = [
      { name: '64 B', bytes: 64, ops: ctx.short ? 2_000 : 100_000 },
      { name: '1 KiB', bytes: 1024, ops: ctx.short ? 1_000 : 40_000 },
      { name: '1 MiB', bytes: 1024 * 1024, ops: ctx.short ? 4 : 40 },
    ];
    const figures: Figure[] = [];
    for (const size of sizes) {
      const input = seededBytes(random, size.bytes);
      ctx.check(toHex(sha256(input)) === toHex(nodeDigest(input)), `noble and node:crypto agree on ${size.name}`);
      figures.push({
        name: `SHA-256 ${size.name}`, metric: 'throughput', unit: 'hash', ops: size.ops, bytesPerOp: size.bytes,
        subject: loop('@noble/hashes', size.ops, () => sha256(input)),
        peer: loop('node:crypto', size.ops, () => nodeDigest(input)),
        relation: 'peer',
      });
    }
    for (const size of sizes.slice(1)) {
      const input = seededBytes(random, size.bytes);
      const ops = Math.max(2, Math.floor(size.ops / 2));
      figures.push({
        name: `SHA-256 ${size.name} WebCrypto`, metric: 'throughput', unit: 'hash', ops, bytesPerOp: size.bytes,
        subject: awaitLoop('crypto.subtle.digest', ops, () => webcrypto.subtle.digest('SHA-256', input)),
        peer: loop('node:crypto', ops, () => nodeDigest(input)),
        relation: 'peer',
      });
    }
    const doc = makeDocument(ctx.seed, 2048);
    const text = JSON.stringify(doc);
    ctx.check(canonicalize(doc) === JSON.stringify(sortKeys(doc)), 'canonicalize equals JSON.stringify of a key-sorted copy');
    ctx.check(canonicalize(parseStrictJson(text)) === canonicalize(JSON.parse(text)), 'parseStrictJson and JSON.parse agree');
    const docOps = ctx.short ? 500 : 10_000;
    figures.push(
      {
        name: 'canonicalize 2 KiB document', metric: 'throughput', unit: 'doc', ops: docOps, bytesPerOp: text.length,
        subject: loop('canonicalize (JCS)', docOps, () => canonicalize(doc)),
        peer: loop('JSON.stringify', docOps, () => JSON.stringify(doc)),
        relation: 'limit',
      },
      {
        name: 'strict parse 2 KiB document', metric: 'throughput', unit: 'doc', ops: docOps, bytesPerOp: text.length,
        subject: loop('parseStrictJson', docOps, () => parseStrictJson(text)),
        peer: loop('JSON.parse', docOps, () => JSON.parse(text)),
        relation: 'limit',
      },
    );
    return figures;
  },
};
