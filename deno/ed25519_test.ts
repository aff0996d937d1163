/**
 * RFC 8032 under Deno: week 8's web-standard backends (WebCrypto and the pure-JS noble
 * one) reproduce every published Ed25519 vector, and strict verification accepts each
 * signature and refuses it with one bit flipped.
 * @module
 */
import { importVerifyingKey, verifyStrict, type Ed25519Backend } from '../weeks/week-08-signatures/ed25519.ts';
import { NOBLE_BACKEND } from '../weeks/week-08-signatures/noble_backend.ts';
import { WEBCRYPTO_BACKEND } from '../weeks/week-08-signatures/webcrypto_backend.ts';
import { fromHex, toHex } from '../weeks/week-07-hashing/hex.ts';
import { assert, assertEquals, readBytes } from './assert.ts';

/** One RFC 8032 §7.1 vector, as week 8 stores them. */
interface Vector {
  readonly name: string;
  readonly secret_key: string;
  readonly public_key: string;
  readonly message: string;
  readonly signature: string;
}

const file = await readBytes('../weeks/week-08-signatures/testdata/rfc8032_vectors.json', import.meta.url);
const { vectors } = JSON.parse(new TextDecoder().decode(file)) as { vectors: Vector[] };

for (const backend of [WEBCRYPTO_BACKEND, NOBLE_BACKEND] as const satisfies readonly Ed25519Backend[]) {
  Deno.test(`Ed25519 (${backend.name}): the RFC 8032 vectors`, async () => {
    assertEquals(vectors.length, 5, 'vectors');
    for (const v of vectors) {
      const secret = await backend.importSeed(fromHex(v.secret_key));
      assertEquals(toHex(secret.publicKey), v.public_key, `${v.name} public key`);
      assertEquals(toHex(await backend.sign(fromHex(v.message), secret)), v.signature, `${v.name} signature`);
      const key = await importVerifyingKey(backend, fromHex(v.public_key));
      assert(await verifyStrict(fromHex(v.signature), fromHex(v.message), key), `${v.name}: the signature verifies`);
      const flipped = fromHex(v.signature);
      flipped[10] = (flipped[10] ?? 0) ^ 1;
      assert(!(await verifyStrict(flipped, fromHex(v.message), key)), `${v.name}: a flipped bit is refused`);
    }
  });
}
