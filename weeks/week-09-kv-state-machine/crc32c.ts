/**
 * CRC32C (Castagnoli), table-driven, in plain TypeScript. The polynomial is the one
 * iSCSI (RFC 3720), ext4, LevelDB, RocksDB and etcd's WAL use; its bit-reversed form is
 * `0x82F63B78`. Node ships no CRC32C (`zlib.crc32` is the IEEE polynomial), so this is
 * the lesson and the implementation at once.
 *
 * The table holds, for every byte value, the remainder of that byte shifted through
 * eight rounds of polynomial division; each input byte then costs one table lookup,
 * one shift and two XORs.
 * @module
 */

/** The reflected Castagnoli polynomial (normal form `0x1EDC6F41`). */
export const CRC32C_POLYNOMIAL = 0x82f63b78;

// #region crc-table
const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    // Eight rounds of "shift right; if the bit that fell off was 1, subtract (XOR) the polynomial".
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLYNOMIAL : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}
// #endregion crc-table

// #region crc32c
/**
 * The CRC32C of `bytes`, as an unsigned 32-bit integer.
 * @param bytes - the data
 * @param seed - the CRC of the bytes that came before, to continue a running checksum:
 *   `crc32c(b, crc32c(a))` equals `crc32c(a ‖ b)`. Default 0 (nothing before).
 * @returns the checksum, in `[0, 2^32)`
 * @see RFC 3720 §12.1 and Appendix B.4 (test vectors)
 */
export function crc32c(bytes: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0; // pre-inversion: leading zero bytes change the result
  for (let i = 0; i < bytes.length; i++) {
    crc = (TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  }
  return ~crc >>> 0; // post-inversion
}
// #endregion crc32c

/** The CRC32C of `bytes` as 8 lowercase hex digits, the way snapshot headers and logs print it. */
export function crc32cHex(bytes: Uint8Array): string {
  return crc32c(bytes).toString(16).padStart(8, '0');
}
