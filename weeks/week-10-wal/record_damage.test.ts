/**
 * Every kind of damage to a multi-record segment, exhaustively: each bit of each byte
 * flipped, each record zero-filled, duplicated or swapped with the next, the segment cut at
 * each byte. The scanner must never report a damaged segment as clean, never drop a record
 * that precedes the damage, and call only the bytes after the last completed write torn.
 * (Issue 14: one flipped bit in a middle record's length field was taken for a torn tail.)
 * @module
 */
import { describe, expect, it } from 'vitest';
import { decodeCrcRecords, encodeCrcRecord } from '../../lib/kv.ts';
import { encodeWalRecord, scanWal, type WalEntry } from './record.ts';

const utf8 = new TextEncoder();
const N = 6;

function entry(i: number): WalEntry {
  // Values of different lengths, one empty (a delete), so length fields differ.
  return i === 3
    ? { term: 1, op: 'delete', key: `k${i}`, request_id: `r${i}`, if_version: 2, value: new Uint8Array(0) }
    : { term: 1, op: 'put', key: `k${i}`, request_id: `r${i}`, if_version: null, value: utf8.encode('v'.repeat(1 + i * 37)) };
}

/** The segment and the byte ranges of its records ([start, end) each). */
function segment(): { bytes: Uint8Array; parts: Uint8Array[]; starts: number[] } {
  const parts = Array.from({ length: N }, (_, i) => encodeWalRecord(i + 1, entry(i)).bytes.slice());
  const starts: number[] = [];
  let at = 0;
  for (const p of parts) { starts.push(at); at += p.length; }
  return { bytes: concat(parts), parts, starts };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** The index of the record byte `b` belongs to. */
function recordOf(starts: number[], b: number): number {
  let k = 0;
  while (k + 1 < starts.length && (starts[k + 1] as number) <= b) k++;
  return k;
}

describe('WAL damage classes (exhaustive)', () => {
  it('every single-bit flip is E_WAL_CORRUPT at the flipped record, every record before it kept', () => {
    const { bytes, starts } = segment();
    let cases = 0;
    for (let b = 0; b < bytes.length; b++) {
      const k = recordOf(starts, b);
      for (let bit = 0; bit < 8; bit++) {
        const damaged = bytes.slice();
        damaged[b]! ^= 1 << bit;
        const scan = scanWal(damaged, 1);
        // Never ok, never torn (a flip changes no length of the file), nothing before it lost.
        if (scan.damage?.kind !== 'corrupt' || scan.damage.at !== starts[k] || scan.records.length !== k) {
          throw new Error(`byte ${b} bit ${bit} (record ${k + 1}): ${JSON.stringify({ damage: scan.damage, kept: scan.records.length })}`);
        }
        cases++;
      }
    }
    expect(cases).toBe(bytes.length * 8);
  });

  it('the example from the issue: a length bit flipped in a middle record names the record that follows it', () => {
    const { bytes, starts } = segment();
    const damaged = bytes.slice();
    damaged[(starts[2] as number) + 1]! ^= 1; // length +65536: runs past the end of the segment
    const scan = scanWal(damaged, 1);
    expect(scan.damage).toMatchObject({ kind: 'corrupt', at: starts[2] });
    expect(scan.damage?.reason).toContain('lsn 4');
    expect(scan.records.map((r) => r.lsn)).toEqual([1, 2]);
  });

  it('a zero-filled record is a torn tail only when it is the last one; in the middle it is corrupt', () => {
    const { parts, starts } = segment();
    for (let k = 0; k < N; k++) {
      const damaged = concat(parts.map((p, i) => (i === k ? new Uint8Array(p.length) : p)));
      const scan = scanWal(damaged, 1);
      expect(scan.damage).toMatchObject({ kind: k === N - 1 ? 'torn' : 'corrupt', at: starts[k] });
      expect(scan.records.length).toBe(k);
    }
  });

  it('a segment cut at any byte is torn inside the cut record (or clean at a boundary), every whole record kept', () => {
    const { bytes, starts } = segment();
    for (let cut = 1; cut < bytes.length; cut++) {
      const scan = scanWal(bytes.subarray(0, cut), 1);
      const whole = starts.filter((s, i) => s + (i + 1 < N ? (starts[i + 1] as number) - s : bytes.length - s) <= cut).length;
      expect(scan.records.length).toBe(whole);
      if (starts.includes(cut)) expect(scan.damage).toBeNull();
      else expect(scan.damage).toMatchObject({ kind: 'torn', at: starts[whole] });
    }
  });

  it('a duplicated or swapped record is corrupt where the order breaks, every record before it kept', () => {
    const { parts, starts } = segment();
    for (let k = 0; k < N; k++) {
      const dup = concat([...parts.slice(0, k + 1), parts[k] as Uint8Array, ...parts.slice(k + 1)]);
      const scan = scanWal(dup, 1);
      expect(scan.damage).toMatchObject({ kind: 'corrupt', at: (starts[k] as number) + (parts[k] as Uint8Array).length });
      expect(scan.records.length).toBe(k + 1);
    }
    for (let k = 0; k + 1 < N; k++) {
      const swapped = concat([...parts.slice(0, k), parts[k + 1] as Uint8Array, parts[k] as Uint8Array, ...parts.slice(k + 2)]);
      const scan = scanWal(swapped, 1);
      expect(scan.damage).toMatchObject({ kind: 'corrupt', at: starts[k] });
      expect(scan.records.length).toBe(k);
    }
  });

  it("week 9's record reader: a length flipped past the end is corrupt when its bytes check or a record follows", () => {
    const bodies = [1, 40, 7, 90].map((n) => utf8.encode('b'.repeat(n)));
    const parts = bodies.map((b) => encodeCrcRecord(b));
    const bytes = concat(parts);
    let at = 0;
    for (const [k, p] of parts.entries()) {
      for (let b = 0; b < 4; b++) {
        for (let bit = 0; bit < 8; bit++) {
          const damaged = bytes.slice();
          damaged[at + b]! ^= 1 << bit;
          const { bodies: kept, damage } = decodeCrcRecords(damaged);
          expect(damage).toEqual({ error: 'corrupt', at });
          expect(kept.length).toBe(k);
        }
      }
      at += p.length;
    }
  });
});
