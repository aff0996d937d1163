/**
 * The strict I-JSON parser: agreement with JSON.parse on everything JSON.parse and
 * I-JSON both accept (property tests), and a stable code with an offset for each
 * kind of refusal.
 * @module
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize } from './jcs.ts';
import { invalidUtf8At, parseStrictJson } from './strict_json.ts';

const SEED = Number(process.env.FC_SEED ?? 7007);

function refusal(input: string | Uint8Array, options?: { maxDepth?: number }): { code?: string; message: string } {
  try {
    parseStrictJson(input, options);
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
  return { code: undefined, message: 'accepted' };
}

describe('agreement with JSON.parse', () => {
  it('parses JSON.stringify(v) to the same value JSON.parse gives, for any JSON value v', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        expect(parseStrictJson(text)).toStrictEqual(JSON.parse(text));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('parses pretty-printed JSON and its UTF-8 bytes the same way', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v, null, 2);
        expect(parseStrictJson(new TextEncoder().encode(text))).toStrictEqual(JSON.parse(text));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('canonicalize after parse is idempotent: parsing canonical text gives canonical text back', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const once = canonicalize(parseStrictJson(JSON.stringify(v)));
        expect(canonicalize(parseStrictJson(once))).toBe(once);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('keeps "__proto__" as an ordinary member, as JSON.parse does', () => {
    const value = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts a surrogate pair written escaped, raw, or half of each', () => {
    expect(parseStrictJson('"\\ud83d\\ude02"')).toBe('😂');
    expect(parseStrictJson('"😂"')).toBe('😂');
    expect(parseStrictJson('"\\ud83d\ude02"')).toBe('😂');
  });
});

describe('refusals, each with a stable code and an offset', () => {
  it.each([
    ['{"a":1,"a":2}', 'E_JSON_DUPLICATE_MEMBER', 'offset 7'],
    ['{"a":{"b":1,"b":1}}', 'E_JSON_DUPLICATE_MEMBER', 'offset 12'],
    ['{"\\u0061":1,"a":2}', 'E_JSON_DUPLICATE_MEMBER', 'offset 12'],
    ['{"\\udc00":"x"}', 'E_JSON_LONE_SURROGATE', 'offset 1'],
    ['{"s":"\\ud83d"}', 'E_JSON_LONE_SURROGATE', 'offset 5'],
    ['{"s":"\ud83d"}', 'E_JSON_LONE_SURROGATE', 'offset 5'],
    ['["\\ude02\\ud83d"]', 'E_JSON_LONE_SURROGATE', 'offset 1'],
    ['{"n":1e400}', 'E_JSON_NUMBER_RANGE', 'offset 5'],
    ['-1e309', 'E_JSON_NUMBER_RANGE', 'offset 0'],
    [`1${'0'.repeat(400)}`, 'E_JSON_NUMBER_RANGE', 'offset 0'],
    ['NaN', 'E_JSON_SYNTAX', 'offset 0'],
    ['Infinity', 'E_JSON_SYNTAX', 'offset 0'],
    ['01', 'E_JSON_SYNTAX', 'offset 1'],
    ['1.', 'E_JSON_SYNTAX', 'offset 1'],
    ['1e', 'E_JSON_SYNTAX', 'offset 1'],
    ['+1', 'E_JSON_SYNTAX', 'offset 0'],
    ['[1,]', 'E_JSON_SYNTAX', 'offset 3'],
    ['{"a":1,}', 'E_JSON_SYNTAX', 'offset 7'],
    ["{'a':1}", 'E_JSON_SYNTAX', 'offset 1'],
    ['"tab\there"', 'E_JSON_SYNTAX', 'offset 4'],
    ['"\\x41"', 'E_JSON_SYNTAX', 'offset 1'],
    ['"\\u12g4"', 'E_JSON_SYNTAX', 'offset 1'],
    ['"open', 'E_JSON_SYNTAX', 'offset 0'],
    ['', 'E_JSON_SYNTAX', 'offset 0'],
    ['\u00a0 1', 'E_JSON_SYNTAX', 'offset 0'],
    ['{"a":1} x', 'E_JSON_TRAILING', 'offset 8'],
    ['[1][2]', 'E_JSON_TRAILING', 'offset 3'],
    ['1 2', 'E_JSON_TRAILING', 'offset 2'],
  ])('%j → %s at %s', (input, code, where) => {
    const { code: got, message } = refusal(input);
    expect(got).toBe(code);
    expect(message).toContain(where);
  });

  it('refuses nesting past maxDepth with E_JSON_TOO_DEEP, and accepts it at maxDepth', () => {
    expect(refusal('[[[1]]]', { maxDepth: 2 }).code).toBe('E_JSON_TOO_DEEP');
    expect(parseStrictJson('[[[1]]]', { maxDepth: 3 })).toEqual([[[1]]]);
    // 100,000 brackets would overflow the stack of a naive recursive parser.
    expect(refusal('['.repeat(100_000)).code).toBe('E_JSON_TOO_DEEP');
  });

  it.each([
    [[0x22, 0xc3, 0x28, 0x22], 1, 'a lead byte without its continuation'],
    [[0x22, 0xc0, 0xaf, 0x22], 1, 'an overlong "/"'],
    [[0x22, 0xed, 0xa0, 0x80, 0x22], 1, 'an encoded surrogate (CESU-8)'],
    [[0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], 1, 'a code point past U+10FFFF'],
    [[0x22, 0x61, 0xff, 0x22], 2, 'the byte 0xFF'],
    [[0x22, 0xe2, 0x82], 1, 'a sequence cut off by the end'],
  ])('refuses bytes %j with E_JSON_BAD_UTF8 at byte %i (%s)', (bytes, at, _why) => {
    const input = new Uint8Array(bytes);
    expect(invalidUtf8At(input)).toBe(at);
    const { code, message } = refusal(input);
    expect(code).toBe('E_JSON_BAD_UTF8');
    expect(message).toContain(`byte ${at}`);
  });

  it('refuses a byte order mark in byte input', () => {
    expect(refusal(new Uint8Array([0xef, 0xbb, 0xbf, 0x31])).code).toBe('E_JSON_BAD_UTF8');
  });

  it('finds invalid UTF-8 exactly where a fatal TextDecoder refuses it (property)', () => {
    const fatal = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => {
        let decodes = true;
        try {
          fatal.decode(bytes);
        } catch {
          decodes = false;
        }
        expect(invalidUtf8At(bytes) === -1).toBe(decodes);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});
