/**
 * Unit and property tests of the frame codec: the byte layout, every decoder state,
 * and decoding under arbitrary fragmentation. The gate repeats the headline
 * properties under its criterion ids.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES, FrameDecoder, encodeFrame } from './frame.ts';

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

describe('encodeFrame', () => {
  const vectors: readonly [string, Uint8Array, string][] = [
    ['an empty payload', new Uint8Array(0), '00000000'],
    ['one byte', new Uint8Array([0x61]), '0000000161'],
    ['"hello"', new TextEncoder().encode('hello'), '0000000568656c6c6f'],
    ['256 zero bytes', new Uint8Array(256), `00000100${'00'.repeat(256)}`],
  ];
  it.each(vectors)('frames %s as big-endian length + payload', (_, payload, want) => {
    expect(hex(encodeFrame(payload))).toBe(want);
  });

  it('accepts a payload of exactly the maximum and refuses one byte more with E_FRAME_OVERSIZE', () => {
    expect(encodeFrame(new Uint8Array(16), 16)).toHaveLength(FRAME_HEADER_BYTES + 16);
    expect(() => encodeFrame(new Uint8Array(17), 16)).toThrow(expect.objectContaining({ code: 'E_FRAME_OVERSIZE' }));
  });

  it('throws a RangeError for a maximum that a 4-byte header cannot express', () => {
    expect(() => encodeFrame(new Uint8Array(1), 2 ** 32)).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameBytes: -1 })).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameBytes: 1.5 })).toThrow(RangeError);
  });
});

describe('FrameDecoder', () => {
  describe('when chunks split frames', () => {
    it('waits in reading-header for a short header and in reading-payload for a partial payload', () => {
      const decoder = new FrameDecoder();
      const frame = encodeFrame(new TextEncoder().encode('abc'));
      expect(decoder.push(frame.subarray(0, 2))).toEqual([]);
      expect([decoder.state, decoder.pendingBytes, decoder.expectedBytes]).toEqual(['reading-header', 2, undefined]);
      expect(decoder.push(frame.subarray(2, 5))).toEqual([]);
      expect([decoder.state, decoder.pendingBytes, decoder.expectedBytes]).toEqual(['reading-payload', 5, 3]);
      expect(decoder.push(frame.subarray(5))).toEqual([new TextEncoder().encode('abc')]);
      expect([decoder.state, decoder.pendingBytes]).toEqual(['reading-header', 0]);
      expect(() => decoder.end()).not.toThrow();
    });

    it('returns several frames from one chunk, in order, and keeps the tail of the next', () => {
      const decoder = new FrameDecoder();
      const stream = new Uint8Array([...encodeFrame(new Uint8Array([1])), ...encodeFrame(new Uint8Array([2, 2])), 0, 0, 0]);
      expect(decoder.push(stream)).toEqual([new Uint8Array([1]), new Uint8Array([2, 2])]);
      expect(decoder.pendingBytes).toBe(3);
    });

    it('copies payloads, so the caller may reuse its read buffer', () => {
      const decoder = new FrameDecoder();
      const buffer = encodeFrame(new Uint8Array([7, 7]));
      const [frame] = decoder.push(buffer);
      buffer.fill(0);
      expect(frame).toEqual(new Uint8Array([7, 7]));
    });

    it('ignores empty chunks', () => {
      const decoder = new FrameDecoder();
      expect(decoder.push(new Uint8Array(0))).toEqual([]);
      expect(decoder.pendingBytes).toBe(0);
    });
  });

  describe('when made with copy: false', () => {
    it('returns frames that lie whole in a chunk as plain views of it, and assembles split ones', () => {
      let allocations = 0;
      const decoder = new FrameDecoder({ copy: false, allocate: (n) => (allocations += 1, new Uint8Array(n)) });
      const chunk = new Uint8Array([...encodeFrame(new Uint8Array([1, 2])), ...encodeFrame(new Uint8Array([3, 4, 5])).subarray(0, 5)]);
      const [whole] = decoder.push(chunk);
      expect([whole, whole?.buffer === chunk.buffer, whole?.constructor]).toEqual([new Uint8Array([1, 2]), true, Uint8Array]);
      expect(decoder.push(new Uint8Array([4, 5]))).toEqual([new Uint8Array([3, 4, 5])]);
      expect(allocations).toBe(1); // only the split frame needed a buffer of its own
    });
  });

  describe('when a frame is empty', () => {
    it('emits an empty payload and allocates nothing for it', () => {
      let allocations = 0;
      const decoder = new FrameDecoder({ allocate: (n) => (allocations += 1, new Uint8Array(n)) });
      expect(decoder.push(new Uint8Array(8))).toEqual([new Uint8Array(0), new Uint8Array(0)]);
      expect(allocations).toBe(0);
    });
  });

  describe('when the stream ends', () => {
    const cases: readonly [string, number[], string][] = [
      ['after 1 of 4 header bytes', [0], '1 of 4 header bytes'],
      ['after 3 of 4 header bytes', [0, 0, 0], '3 of 4 header bytes'],
      ['after a header announcing 5 and no payload', [0, 0, 0, 5], '0 of 5 payload bytes'],
      ['after 4 of 5 payload bytes', [0, 0, 0, 5, 1, 2, 3, 4], '4 of 5 payload bytes'],
    ];
    it.each(cases)('throws E_FRAME_TRUNCATED %s', (_, bytes, detail) => {
      const decoder = new FrameDecoder();
      decoder.push(new Uint8Array(bytes));
      expect(() => decoder.end()).toThrow(expect.objectContaining({ code: 'E_FRAME_TRUNCATED', message: expect.stringContaining(detail) }));
      expect(() => decoder.end()).not.toThrow(); // reported once, then reset
    });
  });

  describe('when a header announces too much', () => {
    it('throws E_FRAME_OVERSIZE on the chunk that completes the header and stays failed', () => {
      const decoder = new FrameDecoder({ maxFrameBytes: 10 });
      expect(decoder.push(new Uint8Array([0, 0]))).toEqual([]);
      expect(() => decoder.push(new Uint8Array([0, 11]))).toThrow(expect.objectContaining({ code: 'E_FRAME_OVERSIZE' }));
      expect(decoder.state).toBe('failed');
      expect(() => decoder.push(encodeFrame(new Uint8Array(1)))).toThrow(expect.objectContaining({ code: 'E_FRAME_OVERSIZE' }));
      expect(() => decoder.end()).toThrow(expect.objectContaining({ code: 'E_FRAME_OVERSIZE' }));
    });

    it('accepts exactly the maximum', () => {
      const decoder = new FrameDecoder({ maxFrameBytes: 10 });
      expect(decoder.push(encodeFrame(new Uint8Array(10), 10))).toHaveLength(1);
    });

    it('uses 1 MiB as the default maximum', () => {
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, DEFAULT_MAX_FRAME_BYTES + 1);
      expect(() => new FrameDecoder().push(header)).toThrow(expect.objectContaining({ code: 'E_FRAME_OVERSIZE' }));
    });
  });

  it('throws E_FRAME_OVERSIZE never later than the chunk holding the bad header\'s last byte (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 5 }),
      fc.integer({ min: 21, max: 0xffff_ffff }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (good, badLength, cutSeeds) => {
        const header = new Uint8Array(4);
        new DataView(header.buffer).setUint32(0, badLength);
        const stream = new Uint8Array([...good.flatMap((p) => [...encodeFrame(p, 20)]), ...header, 1, 2, 3]);
        const badEnd = stream.length - 3; // one past the bad header's last byte
        const cuts = [...new Set(cutSeeds.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const decoder = new FrameDecoder({ maxFrameBytes: 20 });
        const seen: Uint8Array[] = [];
        let start = 0;
        for (const end of [...cuts, stream.length]) {
          try {
            seen.push(...decoder.push(stream.subarray(start, end)));
          } catch (error) {
            expect((error as { code: string }).code).toBe('E_FRAME_OVERSIZE');
            expect(end).toBeGreaterThanOrEqual(badEnd); // not before the header is whole
            expect(start).toBeLessThan(badEnd); //         and not after the chunk that completed it
            expect(seen).toEqual(good.slice(0, seen.length));
            return;
          }
          start = end;
        }
        throw new Error('the oversize header was never reported');
      },
    ), { seed: 20260202 });
  });
});
