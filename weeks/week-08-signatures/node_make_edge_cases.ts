/**
 * Writes `testdata/edge_cases.json`: the Ed25519 edge-case set every backend is
 * tested on. Run `node --import tsx weeks/week-08-signatures/node_make_edge_cases.ts`
 * and review the diff; the gate reads the file, it never regenerates it.
 *
 * Three sources, each case tagged with its origin:
 *
 * - the 15 vectors of ed25519-speccheck (Chalkias, Garillot, Nikolaenko, "Taming the
 *   many EdDSAs", SSR 2020; the paper's 12 cases as extended in the authors'
 *   repository `novifinancial/ed25519-speccheck @ d2b2ba58 : cases.json`), copied as
 *   data from `testdata/speccheck_cases.json`;
 * - the eight small-order points, each used as a public key with the forged
 *   signature R = identity, S = 0, and two non-canonical encodings;
 * - cases built here with a known seed: an honest signature (the control), its S
 *   plus L, an R with an order-8 component added (valid only under the cofactored
 *   equation), and R = identity (r = 0, valid under both equations).
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Point, utils } from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { fromHex, toHex } from '../../lib/hashing.ts';
import { CURVE_ORDER, SMALL_ORDER_POINTS } from './ed25519.ts';
import './noble_backend.ts'; // wires noble's SHA-512

const here = fileURLToPath(new URL('.', import.meta.url));
const encoder = new TextEncoder();

/** One case as stored. */
interface StoredCase {
  id: string;
  origin: string;
  note: string;
  public_key: string;
  signature: string;
  message: string;
}

/** Little-endian 32 bytes of a scalar. */
function scalarBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** Little-endian integer. */
function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number);
  return n;
}

/** Signs with a chosen R = [r]B + T (T a torsion point), as a cheating signer could. */
function signWithR(seed: Uint8Array, message: Uint8Array, r: bigint, torsion: Point): { publicKey: Uint8Array; signature: Uint8Array } {
  const { scalar, pointBytes } = utils.getExtendedPublicKey(seed);
  const big = r === 0n ? Point.ZERO : Point.BASE.multiply(r);
  const rBytes = big.add(torsion).toBytes();
  const k = littleEndian(sha512(Uint8Array.from([...rBytes, ...pointBytes, ...message]))) % CURVE_ORDER;
  const s = (r + k * scalar) % CURVE_ORDER;
  return { publicKey: pointBytes, signature: Uint8Array.from([...rBytes, ...scalarBytes(s)]) };
}

const speccheck = JSON.parse(readFileSync(`${here}/testdata/speccheck_cases.json`, 'utf8')) as { message: string; pub_key: string; signature: string }[];
const cases: StoredCase[] = speccheck.map((c, i) => ({
  id: `speccheck-${i}`,
  origin: 'novifinancial/ed25519-speccheck @ d2b2ba58 : cases.json',
  note: '',
  public_key: c.pub_key,
  signature: c.signature,
  message: c.message,
}));

const anyMessage = toHex(encoder.encode('pay 1000 to mallory'));
const forged = `${SMALL_ORDER_POINTS[0]}${'00'.repeat(32)}`; // R = identity, S = 0
SMALL_ORDER_POINTS.forEach((point, k) => {
  cases.push({ id: `small-order-key-${k}`, origin: 'constructed', note: `A = [${k}]T, T of order 8; R = identity, S = 0`, public_key: point, signature: forged, message: anyMessage });
});
// The identity again, spelled y = p + 1 (non-canonical), and with the sign bit set (negative zero).
cases.push({ id: 'identity-key-y-plus-p', origin: 'constructed', note: 'A = identity encoded with y = p + 1; R = identity, S = 0', public_key: `ee${'ff'.repeat(30)}7f`, signature: forged, message: anyMessage });
cases.push({ id: 'identity-key-negative-zero', origin: 'constructed', note: 'A = identity with the sign bit set; R = identity, S = 0', public_key: `01${'00'.repeat(30)}80`, signature: forged, message: anyMessage });

const seed = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'); // RFC 8032 TEST 1
const message = encoder.encode('civictrust edge case');
const honest = signWithR(seed, message, littleEndian(sha512(message)) % CURVE_ORDER, Point.ZERO);
cases.push({ id: 'honest', origin: 'constructed', note: 'control: an ordinary signature with the RFC 8032 TEST 1 key', public_key: toHex(honest.publicKey), signature: toHex(honest.signature), message: toHex(message) });
const sPlusL = littleEndian(honest.signature.subarray(32)) + CURVE_ORDER;
cases.push({ id: 's-plus-l', origin: 'constructed', note: 'the honest signature with S + L (the same value mod L)', public_key: toHex(honest.publicKey), signature: toHex(honest.signature.subarray(0, 32)) + toHex(scalarBytes(sPlusL)), message: toHex(message) });
const torsion = Point.fromBytes(fromHex(SMALL_ORDER_POINTS[1] as string));
const mixed = signWithR(seed, message, 12345n, torsion);
cases.push({ id: 'mixed-order-r', origin: 'constructed', note: 'R = [r]B + T with T of order 8, S computed for that R: valid only cofactored', public_key: toHex(mixed.publicKey), signature: toHex(mixed.signature), message: toHex(message) });
const identityR = signWithR(seed, message, 0n, Point.ZERO);
cases.push({ id: 'identity-r', origin: 'constructed', note: 'r = 0, so R = identity and S = k·a: valid under both equations', public_key: toHex(identityR.publicKey), signature: toHex(identityR.signature), message: toHex(message) });

const document = {
  title: 'Ed25519 edge cases: every backend must give the same verdict on each',
  sources: [
    'ed25519-speccheck vectors: novifinancial/ed25519-speccheck @ d2b2ba588feb81f64c30f7094c05803b5e7d0066 : cases.json (15 vectors; the "Taming the many EdDSAs" paper, SSR 2020, lists 12)',
    'constructed: weeks/week-08-signatures/node_make_edge_cases.ts (small-order points, non-canonical identity, S + L, mixed-order R, identity R)',
  ],
  encoding: 'lowercase hex',
  cases,
};
writeFileSync(`${here}/testdata/edge_cases.json`, `${JSON.stringify(document, null, 2)}\n`);
process.stdout.write(`wrote ${cases.length} cases\n`);
