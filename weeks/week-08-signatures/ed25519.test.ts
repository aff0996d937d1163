/**
 * The backends against published vectors (RFC 8032 §7.1, the W3C eddsa-jcs-2022 key
 * pair), the small-order table against noble's arithmetic, and the key and signature
 * policy on its own.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Point } from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../lib/hashing.ts';
import { decodeBase64url, encodeBase64url } from './_base64url.ts';
import { CURVE_ORDER, SMALL_ORDER_POINTS, checkPublicKey, importVerifyingKey, publicKeyProblem, signatureProblem, verifyStrict, type Ed25519Backend } from './ed25519.ts';
import { NOBLE_BACKEND } from './noble_backend.ts';
import { NODE_BACKEND } from './node_crypto_backend.ts';
import { WEBCRYPTO_BACKEND } from './webcrypto_backend.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const BACKENDS: readonly Ed25519Backend[] = [NODE_BACKEND, WEBCRYPTO_BACKEND, NOBLE_BACKEND];
const rfc = JSON.parse(readFileSync(`${here}/testdata/rfc8032_vectors.json`, 'utf8')) as {
  vectors: { name: string; secret_key: string; public_key: string; message: string; signature: string }[];
};

/** Base58btc decoding (for the W3C multibase keys), test-only. */
function base58(text: string): Uint8Array {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  let n = 0n;
  for (const c of text) n = n * 58n + BigInt(alphabet.indexOf(c));
  const bytes: number[] = [];
  for (; n > 0n; n >>= 8n) bytes.unshift(Number(n & 0xffn));
  return Uint8Array.from(bytes);
}

describe.each(BACKENDS.map((b) => [b.name, b] as const))('backend %s', (_name, backend) => {
  // #region rfc-vectors
  it.each(rfc.vectors.map((v) => [v.name, v] as const))('reproduces RFC 8032 %s: public key, signature, and strict verification', async (_n, v) => {
    const secret = await backend.importSeed(fromHex(v.secret_key));
    expect(toHex(secret.publicKey)).toBe(v.public_key);
    expect(toHex(await backend.sign(fromHex(v.message), secret))).toBe(v.signature);
    const key = await importVerifyingKey(backend, fromHex(v.public_key));
    expect(await verifyStrict(fromHex(v.signature), fromHex(v.message), key)).toBe(true);
    const flipped = fromHex(v.signature);
    flipped[10] = (flipped[10] as number) ^ 1;
    expect(await verifyStrict(flipped, fromHex(v.message), key)).toBe(false);
  });
  // #endregion rfc-vectors

  it('reproduces the W3C eddsa-jcs-2022 signature from its key pair', async () => {
    const w3c = JSON.parse(readFileSync(new URL('../../testdata/vectors/eddsa-jcs-2022.json', import.meta.url), 'utf8')) as {
      keyPair: { publicKeyMultibase: string; secretKeyMultibase: string }; combinedHashHex: string; signatureHex: string;
    };
    const seed = base58(w3c.keyPair.secretKeyMultibase.slice(1)).subarray(2); // drop 0x80 0x26
    const publicKey = base58(w3c.keyPair.publicKeyMultibase.slice(1)).subarray(2); // drop 0xed 0x01
    const secret = await backend.importSeed(seed);
    expect(toHex(secret.publicKey)).toBe(toHex(publicKey));
    expect(toHex(await backend.sign(fromHex(w3c.combinedHashHex), secret))).toBe(w3c.signatureHex);
  });
});

describe('the strict policy', () => {
  it('lists exactly the eight points of order dividing 8, as noble computes them', () => {
    const t = Point.fromBytes(fromHex(SMALL_ORDER_POINTS[1] as string));
    const multiples = Array.from({ length: 8 }, (_, k) => (k === 0 ? Point.ZERO : t.multiply(BigInt(k))).toHex());
    expect(new Set(multiples)).toEqual(new Set(SMALL_ORDER_POINTS));
    expect(t.multiply(4n).is0()).toBe(false); // T really has order 8
  });

  it('refuses every small-order public key with E_KEY_WEAK', () => {
    for (const point of SMALL_ORDER_POINTS) expect(() => checkPublicKey(fromHex(point))).toThrow(expect.objectContaining({ code: 'E_KEY_WEAK' }));
  });

  it('refuses a mixed-order key and a non-canonical one, and accepts an honest key', () => {
    const honest = fromHex(rfc.vectors[0]?.public_key as string);
    expect(publicKeyProblem(honest)).toBeUndefined();
    const mixed = Point.fromBytes(honest).add(Point.fromBytes(fromHex(SMALL_ORDER_POINTS[1] as string))).toBytes();
    expect(publicKeyProblem(mixed)).toMatch(/mixed-order/);
    expect(publicKeyProblem(fromHex(`ee${'ff'.repeat(30)}7f`))).toMatch(/non-canonical/);
    expect(() => checkPublicKey(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'E_KEY_MALFORMED' }));
  });

  it('refuses S >= L and a small-order R before any backend runs', () => {
    const v = rfc.vectors[1] as { signature: string };
    const sig = fromHex(v.signature);
    expect(signatureProblem(sig)).toBeUndefined();
    const big = sig.slice();
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(big[i] as number);
    s += CURVE_ORDER;
    for (let i = 32; i < 64; i++) big[i] = Number((s >> BigInt(8 * (i - 32))) & 0xffn);
    expect(signatureProblem(big)).toMatch(/S >= L/);
    const smallR = sig.slice();
    smallR.set(fromHex(SMALL_ORDER_POINTS[0] as string), 0);
    expect(signatureProblem(smallR)).toMatch(/small-order/);
  });
});

describe('base64url', () => {
  it('round-trips every length and refuses padding, other alphabets and non-zero trailing bits', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
      expect(decodeBase64url(encodeBase64url(bytes))).toEqual(bytes);
    }
    expect(decodeBase64url('AA==')).toBeUndefined();
    expect(decodeBase64url('A+')).toBeUndefined();
    expect(decodeBase64url('AB')).toBeUndefined(); // 'AB' has a stray bit; 'AA' is the one spelling of 0x00
    expect(decodeBase64url('AA')).toEqual(Uint8Array.of(0));
  });
});

describe('inputs passed as Buffer', () => {
  it('are never written to: a Buffer key is checked and imported without its bytes changing', async () => {
    const key = Buffer.from(rfc.vectors[0]?.public_key as string, 'hex');
    key[31] = (key[31] as number) | 0x80; // the sign bit set: the policy clears it on a copy, never here
    const before = key.toString('hex');
    publicKeyProblem(key);
    expect(key.toString('hex')).toBe(before);
    const honest = Buffer.from(rfc.vectors[0]?.public_key as string, 'hex');
    const imported = await importVerifyingKey(NODE_BACKEND, honest);
    expect(await verifyStrict(fromHex(rfc.vectors[0]?.signature as string), new Uint8Array(0), imported)).toBe(true);
  });
});
