import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, type SplitLine } from './line_splitter.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function splitAll(chunks: readonly Uint8Array[], max: number): { lines: string[]; tail: number } {
  const splitter = new LineSplitter(max);
  const lines = chunks.flatMap((c) => splitter.push(c)).map((l: SplitLine) => (l.kind === 'line' ? dec.decode(l.bytes) : `<too-long ${l.length}>`));
  return { lines, tail: splitter.end().tailBytes };
}

describe('LineSplitter', () => {
  it('yields the same lines however the stream is cut into chunks', () => {
    fc.assert(fc.property(
      fc.array(fc.string({ maxLength: 30 }).map((s) => s.replace(/\n/g, '')), { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (lines, cuts) => {
        const bytes = enc.encode(lines.map((l) => `${l}\n`).join(''));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, bytes.length]) {
          chunks.push(bytes.slice(prev, p));
          prev = p;
        }
        expect(splitAll(chunks, 1000)).toEqual({ lines, tail: 0 });
      },
    ));
  });

  it('splits a stream at every single boundary, byte by byte', () => {
    const bytes = enc.encode('alpha\nbeta\n\ngamma\n');
    const oneByOne = [...bytes].map((b) => new Uint8Array([b]));
    expect(splitAll(oneByOne, 100)).toEqual({ lines: ['alpha', 'beta', '', 'gamma'], tail: 0 });
  });

  it('reports a line over the cap without keeping its bytes, then carries on', () => {
    const { lines } = splitAll([enc.encode('ok\n'), enc.encode('x'.repeat(50)), enc.encode('y'.repeat(50) + '\nnext\n')], 64);
    expect(lines).toEqual(['ok', '<too-long 100>', 'next']);
  });

  it('accepts a line exactly at the cap and refuses one byte more', () => {
    expect(splitAll([enc.encode('abcd\nabcde\n')], 4).lines).toEqual(['abcd', '<too-long 5>']);
  });

  it('with a cap of 0 keeps only empty lines', () => {
    expect(splitAll([enc.encode('\nx\n')], 0).lines).toEqual(['', '<too-long 1>']);
  });

  it('reports bytes left without a final newline as a tail', () => {
    expect(splitAll([enc.encode('a\nbc')], 10)).toEqual({ lines: ['a'], tail: 2 });
  });

  it('does not alias the caller\'s buffer, which may be reused for the next read', () => {
    const buffer = enc.encode('abc');
    const splitter = new LineSplitter(10);
    splitter.push(buffer);
    buffer.set(enc.encode('xyz'));
    const [line] = splitter.push(enc.encode('\n'));
    expect(line?.kind === 'line' && dec.decode(line.bytes)).toBe('abc');
  });
});
