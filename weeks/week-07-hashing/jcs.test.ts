/**
 * RFC 8785 conformance: every published input/output pair (cyberphone and W3C), the
 * first 10,000 lines of the ES6 number sequence, and the I-JSON reject vectors.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { thrownCode } from '../../lib/testing.ts';
import { canonicalBytes, canonicalize, escapeJsonString } from './jcs.ts';
import { parseStrictJson } from './strict_json.ts';
import { sha256Hex } from './sha256.ts';
import { fromHex } from './hex.ts';

const vectors = join(dirname(fileURLToPath(import.meta.url)), 'testdata', 'jcs');
const manifest = JSON.parse(readFileSync(join(vectors, 'manifest.json'), 'utf8')) as {
  pairs: { input: string; output: string; inputSha256: string; outputSha256: string }[];
};

describe('RFC 8785 published pairs', () => {
  it.each(manifest.pairs)('canonicalises $input to the published bytes', ({ input, output, inputSha256, outputSha256 }) => {
    const inBytes = new Uint8Array(readFileSync(join(vectors, input)));
    const outBytes = new Uint8Array(readFileSync(join(vectors, output)));
    expect(sha256Hex(inBytes)).toBe(inputSha256);
    expect(sha256Hex(outBytes)).toBe(outputSha256);
    const canonical = canonicalBytes(parseStrictJson(inBytes));
    expect(canonical).toEqual(outBytes);
    expect(sha256Hex(canonical)).toBe(outputSha256);
  });
});

describe('ES6 number serialisation', () => {
  const text = readFileSync(join(vectors, 'es6-numbers-10000.txt'), 'utf8');
  const definition = JSON.parse(readFileSync(join(vectors, 'es6-numbers-static-u64.json'), 'utf8')) as { publishedSha256: Record<string, string> };

  it('the sequence file is the published one (SHA-256 of 10,000 lines)', () => {
    expect(sha256Hex(new TextEncoder().encode(text))).toBe(definition.publishedSha256['10000']);
  });

  it('writes all 10,000 doubles exactly as the sequence expects', () => {
    const lines = text.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(10_000);
    const view = new DataView(new ArrayBuffer(8));
    const wrong: string[] = [];
    for (const line of lines) {
      const [hex, expected] = line.split(',') as [string, string];
      view.setBigUint64(0, BigInt(`0x${hex}`));
      const value = view.getFloat64(0);
      const got = canonicalize(value);
      if (got !== expected) wrong.push(`${hex}: got ${got}, want ${expected}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('I-JSON reject vectors', () => {
  const cases = [
    ['duplicate-member.json', 'E_JSON_DUPLICATE_MEMBER'],
    ['lone-surrogate-name.json', 'E_JSON_LONE_SURROGATE'],
    ['lone-surrogate-value.json', 'E_JSON_LONE_SURROGATE'],
    ['number-overflow.json', 'E_JSON_NUMBER_RANGE'],
  ] as const;
  it.each(cases)('JSON.parse accepts %s but the strict parser refuses it with %s', (file, code) => {
    const bytes = new Uint8Array(readFileSync(join(vectors, 'reject', file)));
    expect(() => JSON.parse(new TextDecoder().decode(bytes))).not.toThrow();
    expect(thrownCode(() => parseStrictJson(bytes))).toBe(code);
  });
});

describe('canonicalize refuses what is not I-JSON', () => {
  it.each([
    ['NaN', Number.NaN, 'E_JSON_NUMBER_RANGE'],
    ['Infinity', { a: [1, Number.POSITIVE_INFINITY] }, 'E_JSON_NUMBER_RANGE'],
    ['a lone surrogate value', { s: '\ud83d' }, 'E_JSON_LONE_SURROGATE'],
    ['a lone surrogate name', { '\udc00': 1 }, 'E_JSON_LONE_SURROGATE'],
    ['undefined', { a: undefined }, 'E_JSON_UNSUPPORTED_VALUE'],
    ['a bigint', 1n, 'E_JSON_UNSUPPORTED_VALUE'],
    ['a Date', new Date(0), 'E_JSON_UNSUPPORTED_VALUE'],
    ['a Map', new Map(), 'E_JSON_UNSUPPORTED_VALUE'],
    ['a hole', [1, , 3], 'E_JSON_UNSUPPORTED_VALUE'],
    ['a function', { f: () => 1 }, 'E_JSON_UNSUPPORTED_VALUE'],
  ] as const)('%s → %s', (_name, value, code) => {
    expect(thrownCode(() => canonicalize(value))).toBe(code);
  });

  it('a cycle ends in E_JSON_TOO_DEEP instead of a stack overflow', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(thrownCode(() => canonicalize(loop))).toBe('E_JSON_TOO_DEEP');
  });

  it('names the path of the offending value', () => {
    expect(() => canonicalize({ list: [0, { 'odd name': Number.NaN }] })).toThrow('$.list[1]["odd name"]');
  });

  it('accepts a null-prototype object and writes -0 as 0', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = -0;
    bare.a = 'x';
    expect(canonicalize(bare)).toBe('{"a":"x","b":0}');
  });
});

describe('escapeJsonString', () => {
  it('escapes as RFC 8785 §3.2.2.2 lists, lowercase \\u00xx, and nothing else', () => {
    expect(escapeJsonString('"\\\b\f\n\r\t\u0000\u001f\u007f/é€😂')).toBe('"\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\u007f/é€😂"');
  });
  it('agrees with JSON.stringify on every control character and every ASCII character', () => {
    for (let c = 0; c < 0x80; c++) {
      const s = `a${String.fromCharCode(c)}b`;
      expect(escapeJsonString(s)).toBe(JSON.stringify(s));
    }
  });
});

describe('fromHex', () => {
  it('refuses uppercase, odd length and non-hex with E_HASH_MALFORMED', () => {
    for (const bad of ['AB', 'abc', 'zz']) expect(thrownCode(() => fromHex(bad))).toBe('E_HASH_MALFORMED');
    expect(fromHex('00ff10')).toEqual(new Uint8Array([0, 255, 16]));
  });
});
