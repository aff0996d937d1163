/**
 * Byte helpers shared by every codec in the course: web-standard `Uint8Array` only.
 * @module
 */

/** Joins chunks into one array of `length` bytes (the sum of their lengths). */
export function concatBytes(parts: readonly Uint8Array[], length = parts.reduce((n, p) => n + p.length, 0)): Uint8Array {
  if (parts.length === 1 && (parts[0] as Uint8Array).length === length) return parts[0] as Uint8Array;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Reads a byte stream to its end, refusing more than `maxBytes` as soon as the
 * total passes it: memory is capped by the limit, not by what the sender sends.
 * @param tooLarge - builds the error thrown when the limit is passed
 */
export async function readAllCapped(source: AsyncIterable<Uint8Array>, maxBytes: number, tooLarge: () => Error): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge();
    parts.push(chunk);
  }
  return concatBytes(parts, total);
}
