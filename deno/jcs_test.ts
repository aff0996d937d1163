/**
 * RFC 8785 under Deno: week 7's canonicaliser and strict parser against the published
 * JCS vectors in `testdata/vectors/jcs/` (pairs, the ES6 number sequence, refusals).
 * @module
 */
import { canonicalBytes, canonicalize } from '../weeks/week-07-hashing/jcs.ts';
import { parseStrictJson } from '../weeks/week-07-hashing/strict_json.ts';
import { sha256Hex } from '../weeks/week-07-hashing/sha256.ts';
import { assertBytes, assertEquals, assertThrowsCode, readBytes } from './assert.ts';

const VECTORS = '../testdata/vectors/jcs/';
const text = new TextDecoder();

/** Reads a file of the JCS vector folder. */
function vector(path: string): Promise<Uint8Array> {
  return readBytes(`${VECTORS}${path}`, import.meta.url);
}

Deno.test('JCS: every published input canonicalises to its published bytes', async () => {
  const manifest = JSON.parse(text.decode(await vector('manifest.json'))) as {
    pairs: { input: string; output: string; inputSha256: string; outputSha256: string }[];
  };
  assertEquals(manifest.pairs.length, 8, 'pairs in the manifest');
  for (const pair of manifest.pairs) {
    const input = await vector(pair.input);
    const output = await vector(pair.output);
    assertEquals(sha256Hex(input), pair.inputSha256, `${pair.input} SHA-256`);
    assertEquals(sha256Hex(output), pair.outputSha256, `${pair.output} SHA-256`);
    assertBytes(canonicalBytes(parseStrictJson(input)), output, pair.input);
  }
});

Deno.test('JCS: the first 10,000 ES6 numbers serialise as published', async () => {
  const bytes = await vector('es6-numbers-10000.txt');
  const definition = JSON.parse(text.decode(await vector('es6-numbers-static-u64.json'))) as { publishedSha256: Record<string, string> };
  assertEquals(sha256Hex(bytes), definition.publishedSha256['10000'], 'sequence SHA-256');
  const lines = text.decode(bytes).split('\n').filter((line) => line !== '');
  assertEquals(lines.length, 10_000, 'lines');
  const view = new DataView(new ArrayBuffer(8));
  for (const line of lines) {
    const [hex = '', expected = ''] = line.split(',');
    view.setBigUint64(0, BigInt(`0x${hex}`));
    assertEquals(canonicalize(view.getFloat64(0)), expected, `0x${hex}`);
  }
});

Deno.test('JCS: inputs that JSON.parse accepts but that are not I-JSON are refused with a stable code', async () => {
  const cases: [string, string][] = [
    ['duplicate-member', 'E_JSON_DUPLICATE_MEMBER'],
    ['lone-surrogate-name', 'E_JSON_LONE_SURROGATE'],
    ['lone-surrogate-value', 'E_JSON_LONE_SURROGATE'],
    ['number-overflow', 'E_JSON_NUMBER_RANGE'],
  ];
  for (const [name, code] of cases) {
    const input = await vector(`reject/${name}.json`);
    JSON.parse(text.decode(input)); // the lax parser takes it
    assertThrowsCode(() => parseStrictJson(input), code, name);
  }
});
