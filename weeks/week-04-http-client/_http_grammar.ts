/**
 * Byte-level pieces of the HTTP/1.1 grammar shared by the response parser: token and
 * field-value characters (RFC 9110 §5.6.2, §5.5), ISO 8859-1 decoding, and the
 * syntax of chunk extensions (RFC 9112 §7.1.1). Private to week 4 (the underscore).
 * @module
 */

const SP = 32;
const HTAB = 9;

/** RFC 9110 §5.6.2 tchar, as a lookup table over bytes. */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** True for a token character. */
export function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** True for a byte allowed inside a field value or reason phrase: HTAB, SP, VCHAR, obs-text. */
export function isFieldChar(code: number): boolean {
  return code === HTAB || (code >= SP && code !== 127);
}

/** True for an ASCII hex digit. */
export function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/** Decodes bytes one to one into a string (ISO 8859-1), as header bytes are defined. */
export function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4096) out += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return out;
}

/**
 * Checks the syntax of chunk extensions from `start` to the end of the line; their
 * meaning is ignored, as §7.1.1 requires for unknown extensions.
 * chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 * @throws whatever `bad` returns, on the first byte that breaks the grammar
 */
export function checkChunkExtensions(line: Uint8Array, start: number, bad: (detail: string) => Error): void {
  let at = start;
  const skipBws = (): void => {
    while (at < line.length && (line[at] === SP || line[at] === HTAB)) at += 1;
  };
  const token = (what: string): void => {
    const from = at;
    while (at < line.length && isTchar(line[at] as number)) at += 1;
    if (at === from) throw bad(`a chunk extension has an empty or invalid ${what}`);
  };
  while (at < line.length) {
    skipBws();
    if (line[at] !== 0x3b) throw bad(`unexpected byte 0x${(line[at] ?? 0).toString(16).padStart(2, '0')} after the chunk size`);
    at += 1;
    skipBws();
    token('name');
    skipBws();
    if (at < line.length && line[at] === 0x3d) {
      at += 1;
      skipBws();
      if (line[at] === 0x22) at = quotedStringEnd(line, at, bad);
      else token('value');
    }
  }
}

/** Returns the offset after the quoted-string that starts at `start` (RFC 9110 §5.6.4). */
function quotedStringEnd(line: Uint8Array, start: number, bad: (detail: string) => Error): number {
  let at = start + 1;
  while (at < line.length) {
    const code = line[at] as number;
    if (code === 0x22) return at + 1;
    if (code === 0x5c) {
      const escaped = line[at + 1];
      if (escaped === undefined || !isFieldChar(escaped)) throw bad('a quoted chunk extension value has a bad escape');
      at += 2;
    } else if (isFieldChar(code)) at += 1;
    else throw bad(`a quoted chunk extension value has control byte 0x${code.toString(16).padStart(2, '0')}`);
  }
  throw bad('a quoted chunk extension value is not closed');
}
