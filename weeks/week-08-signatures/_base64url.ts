/**
 * Base64url without padding (RFC 4648 §5), the text form of nonces, signatures and
 * public keys in week 8. Decoding is strict: only the URL-safe alphabet, no padding,
 * no whitespace, and unused trailing bits must be zero, so every byte string has
 * exactly one spelling. Exported through `lib/signing.ts`, because week 11's Raft message
 * codec spells entry bytes the same way.
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** `DECODE[c]` is the 6-bit value of character code `c`, or -1. */
const DECODE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/** Writes bytes as base64url without padding (three bytes per four characters, no lookup beyond the alphabet). */
export function encodeBase64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out += ALPHABET[n >> 18] as string + (ALPHABET[(n >> 12) & 63] as string) + (ALPHABET[(n >> 6) & 63] as string) + (ALPHABET[n & 63] as string);
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = (bytes[i] as number) << 16;
    out += (ALPHABET[n >> 18] as string) + (ALPHABET[(n >> 12) & 63] as string);
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
    out += (ALPHABET[n >> 18] as string) + (ALPHABET[(n >> 12) & 63] as string) + (ALPHABET[(n >> 6) & 63] as string);
  }
  return out;
}

/**
 * Reads base64url without padding, or returns undefined for anything that is not the
 * one canonical spelling of some byte string.
 */
export function decodeBase64url(text: string): Uint8Array | undefined {
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? (DECODE[code] as number) : -1;
    if (digit < 0) return undefined;
    value = ((value << 6) | digit) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero, or two spellings would decode to the same bytes.
  if ((value & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}
