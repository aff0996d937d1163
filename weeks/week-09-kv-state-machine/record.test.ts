/**
 * CRC32C against RFC 3720's vectors, and the checksummed record under bit flips and
 * truncation (fast-check, seeded).
 * @module
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../lib/hashing.ts';
import { thrownCode } from '../../lib/testing.ts';
import { crc32c, crc32cHex } from './crc32c.ts';
import { decodeCrcRecord, decodeCrcRecords, encodeCrcRecord, isRecordDamage, MAX_RECORD_BODY_BYTES, parseCrcRecord } from './record.ts';

const SEED = 0x9c0de;
const vectors = JSON.parse(readFileSync(new URL('./testdata/rfc3720_b4.json', import.meta.url), 'utf8')) as Array<{ name: string; hex: string; crc32c: string }>;

describe('crc32c', () => {
  it.each(vectors)('matches RFC 3720 B.4: $name', ({ hex, crc32c: expected }) => {
    expect(crc32cHex(fromHex(hex))).toBe(expected);
  });

  it('continues a running checksum through its seed', () => {
    fc.assert(fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
      const joined = new Uint8Array([...a, ...b]);
      expect(crc32c(b, crc32c(a))).toBe(crc32c(joined));
    }), { seed: SEED });
  });
});

describe('checksummed record', () => {
  it('decodes what it encodes, for any body', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }), (bodies) => {
      const bytes = new Uint8Array(bodies.flatMap((b) => [...encodeCrcRecord(b)]));
      const { bodies: out, damage } = decodeCrcRecords(bytes);
      expect(damage).toBeUndefined();
      expect(out.map((b) => [...b])).toEqual(bodies.map((b) => [...b]));
    }), { seed: SEED });
  });

  it('reports any single flipped bit as damage, never as a record', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (body, position, bit) => {
      const bytes = encodeCrcRecord(body);
      const at = position % bytes.length;
      bytes[at] = (bytes[at] as number) ^ (1 << bit);
      const result = decodeCrcRecord(bytes, 0);
      expect(isRecordDamage(result)).toBe(true);
    }), { seed: SEED, numRuns: 500 });
  });

  it('reports any truncation as torn at the record start', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (body, cut) => {
      const bytes = encodeCrcRecord(body);
      const short = bytes.subarray(0, cut % bytes.length);
      expect(decodeCrcRecord(short, 0)).toEqual({ error: 'torn', at: 0 });
    }), { seed: SEED });
  });

  it('keeps the records before a damaged one and points at it', () => {
    const a = encodeCrcRecord(new TextEncoder().encode('first'));
    const b = encodeCrcRecord(new TextEncoder().encode('second'));
    const bytes = new Uint8Array([...a, ...b]);
    bytes[a.length + 9] = (bytes[a.length + 9] as number) ^ 0x01;
    const { bodies, damage } = decodeCrcRecords(bytes);
    expect(bodies).toHaveLength(1);
    expect(damage).toEqual({ error: 'corrupt', at: a.length });
  });

  it('refuses an impossible length before reading the body', () => {
    const bytes = encodeCrcRecord(new Uint8Array(4));
    new DataView(bytes.buffer).setUint32(0, MAX_RECORD_BODY_BYTES + 1, false);
    expect(decodeCrcRecord(bytes, 0)).toEqual({ error: 'corrupt', at: 0 });
  });

  it('parses one whole record and codes the failures', () => {
    const bytes = encodeCrcRecord(new Uint8Array([1, 2, 3]));
    expect([...parseCrcRecord(bytes)]).toEqual([1, 2, 3]);
    expect(thrownCode(() => parseCrcRecord(bytes.subarray(0, 9)))).toBe('E_RECORD_TORN');
    const flipped = bytes.slice();
    flipped[8] = 9;
    expect(thrownCode(() => parseCrcRecord(flipped))).toBe('E_RECORD_CHECKSUM');
  });
});

describe('a length that runs past the end (issue 14)', () => {
  it('is corrupt, not torn, when the bytes present already check or a whole record follows', () => {
    const first = encodeCrcRecord(new TextEncoder().encode('first body'));
    const second = encodeCrcRecord(new TextEncoder().encode('second body'));
    const last = first.slice();
    last[1]! ^= 1; // length + 65536: the body is all there, its CRC still matches
    expect(decodeCrcRecord(last, 0)).toEqual({ error: 'corrupt', at: 0 });
    const middle = new Uint8Array([...last, ...second]);
    expect(decodeCrcRecords(middle).damage).toEqual({ error: 'corrupt', at: 0 });
    // A real torn write: the last record cut short, nothing after it.
    expect(decodeCrcRecords(new Uint8Array([...first, ...second.subarray(0, 12)])).damage).toEqual({ error: 'torn', at: first.length });
  });
});

