/**
 * Lowercase hexadecimal, the one text form of a digest in CivicTrust (`payload_hash`,
 * manifests, CLI output).
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { HASH_ERRORS } from './catalog.ts';

const fail = errorFactory(HASH_ERRORS);

const HEX_DIGITS = '0123456789abcdef';
/** `HEX_TABLE[b]` is the two-digit lowercase hex of byte `b`. */
const HEX_TABLE: readonly string[] = Array.from({ length: 256 }, (_, b) => (HEX_DIGITS[b >> 4] as string) + (HEX_DIGITS[b & 15] as string));

/** Writes bytes as lowercase hexadecimal, two digits per byte. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_TABLE[bytes[i] as number] as string;
  return out;
}

/** The value of one lowercase hex digit, or -1. */
function nibble(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10;
  return -1;
}

/**
 * Reads lowercase hexadecimal. Uppercase is refused on purpose: a digest has one
 * text form, so two spellings of one digest never compare unequal as strings.
 * @throws {@link CivicError} `E_HASH_MALFORMED` for an odd length or a character outside `0-9a-f`
 */
export function fromHex(text: string): Uint8Array {
  if (text.length % 2 !== 0) throw fail('E_HASH_MALFORMED', `Cannot read hex: odd length ${text.length}`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(text.charCodeAt(2 * i));
    const lo = nibble(text.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw fail('E_HASH_MALFORMED', `Cannot read hex: character at offset ${hi < 0 ? 2 * i : 2 * i + 1} is not 0-9 or a-f`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** True when `text` is a SHA-256 digest in its one text form: 64 lowercase hex digits. */
export function isSha256Hex(text: string): boolean {
  return /^[0-9a-f]{64}$/.test(text);
}

/**
 * Compares two byte arrays in time that depends only on their lengths, not on where
 * they first differ.
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
