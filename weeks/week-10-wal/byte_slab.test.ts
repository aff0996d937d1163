/**
 * ByteSlab: slices never overlap, start zeroed, and `utf8` writes exactly what
 * `TextEncoder.encode` writes, lone surrogates included. A WAL record built in a slice
 * away from offset 0 of its buffer still scans back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteSlab } from './byte_slab.ts';
import { encodeWalRecord, scanWal } from './record.ts';

describe('ByteSlab', () => {
  it('hands out zeroed slices that no other slice shares, across slab boundaries', () => {
    const slab = new ByteSlab(64);
    const slices = Array.from({ length: 40 }, (_, i) => slab.take(1 + (i % 8)));
    for (const s of slices) expect(s.every((b) => b === 0)).toBe(true);
    slices.forEach((s, i) => s.fill(i + 1));
    slices.forEach((s, i) => expect(s.every((b) => b === i + 1)).toBe(true));
    expect(new Set(slices.map((s) => s.buffer)).size).toBeGreaterThan(1); // it started new slabs
  });

  it('gives a large request an array of its own', () => {
    const slab = new ByteSlab(64);
    const big = slab.take(9);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(9);
  });

  it('utf8 matches TextEncoder.encode for any string', () => {
    const encoder = new TextEncoder();
    const slab = new ByteSlab(256);
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
      expect([...slab.utf8(text)]).toEqual([...encoder.encode(text)]);
    }), { seed: 10, numRuns: 300 });
    expect([...slab.utf8('a\ud800b')]).toEqual([...encoder.encode('a\ud800b')]); // a lone surrogate: U+FFFD
  });

  it('a WAL record built mid-slab scans back (the encoder never assumes byteOffset 0)', () => {
    const records = [1, 2, 3].map((lsn) => encodeWalRecord(lsn, { term: 1, op: 'put', key: `k${lsn}`, request_id: `r${lsn}`, if_version: null, value: new TextEncoder().encode(`v${lsn}`) }));
    expect(records[1]!.bytes.byteOffset).toBeGreaterThan(0);
    const scanned = scanWal(records[1]!.bytes, 2);
    expect(scanned.damage).toBeNull();
    expect(scanned.records[0]).toMatchObject({ lsn: 2, key: 'k2', checksum: records[1]!.record.checksum });
  });
});
