/**
 * A strict I-JSON parser (RFC 8259 grammar, RFC 7493 restrictions) for every input
 * that is hashed or signed. `JSON.parse` is lenient where a signature cannot afford
 * it: it keeps the last of two members with one name, lets unpaired surrogates
 * through, and turns `1e400` into `Infinity`. This parser refuses each of those with
 * a stable code and the offset where it happened.
 *
 * Offsets count UTF-16 code units of the text (for byte input, of the decoded text),
 * from 0, like `String.prototype.slice`.
 * @see https://www.rfc-editor.org/rfc/rfc7493 (I-JSON)
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { HASH_ERRORS, type HashErrorCode } from './catalog.ts';
import { DEFAULT_MAX_JSON_DEPTH, loneSurrogateAt } from './jcs.ts';

const fail = errorFactory(HASH_ERRORS);

/** Limits for {@link parseStrictJson}. */
export interface StrictJsonOptions {
  /** The deepest nesting of arrays and objects accepted (default {@link DEFAULT_MAX_JSON_DEPTH}). */
  readonly maxDepth?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// #region utf8-check
/**
 * The offset of the first byte that breaks UTF-8 (RFC 3629), or -1. It refuses
 * overlong forms, encoded surrogates (ED A0..BF) and code points past U+10FFFF, the
 * same set a fatal `TextDecoder` refuses, but says where.
 */
export function invalidUtf8At(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong below U+0800
      if (b === 0xed) hi = 0x9f; // U+D800..DFFF are surrogates, not characters
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong below U+10000
      if (b === 0xf4) hi = 0x8f; // past U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}
// #endregion utf8-check

/** Decodes UTF-8 input, refusing bad bytes and a byte order mark. */
function decodeInput(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw fail('E_JSON_BAD_UTF8', 'Cannot parse JSON: the input starts with a byte order mark (RFC 8259 §8.1 forbids sending one)');
  }
  const bad = invalidUtf8At(bytes);
  if (bad !== -1) throw fail('E_JSON_BAD_UTF8', `Cannot parse JSON: invalid UTF-8 at byte ${bad} (0x${(bytes[bad] as number).toString(16).padStart(2, '0')})`);
  return utf8.decode(bytes);
}

// #region parse-strict
/**
 * Parses one JSON document, refusing everything I-JSON refuses.
 * @param input - the text, or its UTF-8 bytes
 * @returns plain JSON data, equal to what `JSON.parse` returns for the same accepted text
 * @throws {@link CivicError} with the offset in its message:
 *   `E_JSON_SYNTAX` (not JSON), `E_JSON_TRAILING` (more after the value),
 *   `E_JSON_DUPLICATE_MEMBER`, `E_JSON_LONE_SURROGATE` (escaped or raw, in a name or a value),
 *   `E_JSON_NUMBER_RANGE` (a number that overflows a double, like `1e400`),
 *   `E_JSON_BAD_UTF8` (byte input only), `E_JSON_TOO_DEEP`
 */
export function parseStrictJson(input: string | Uint8Array, options: StrictJsonOptions = {}): unknown {
  const text = typeof input === 'string' ? input : decodeInput(input);
  const parser = new StrictJsonParser(text, options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH);
  parser.skipWhitespace();
  const value = parser.value(0);
  parser.skipWhitespace();
  if (parser.pos < text.length) parser.error('E_JSON_TRAILING', 'unexpected data after the JSON value');
  return value;
}
// #endregion parse-strict

/** Whitespace per RFC 8259 §2: space, tab, line feed, carriage return. Nothing else. */
function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** Number grammar of RFC 8259 §6, anchored at lastIndex. */
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** A run of string characters needing no attention: no quote, backslash or control. */
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;

/** A string holding no UTF-16 surrogate at all (most do) needs no pairing scan. */
const MAY_HOLD_SURROGATE = /[\ud800-\udfff]/;

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** The recursive-descent parser: one instance per document. */
class StrictJsonParser {
  readonly #text: string;
  readonly #maxDepth: number;
  /** The offset of the next unread code unit. */
  pos = 0;

  constructor(text: string, maxDepth: number) {
    this.#text = text;
    this.#maxDepth = maxDepth;
  }

  /** Throws a coded error at an offset. */
  error(code: HashErrorCode, why: string, at: number = this.pos): never {
    throw fail(code, `Cannot parse JSON: ${why} at offset ${at}`);
  }

  skipWhitespace(): void {
    const text = this.#text;
    while (this.pos < text.length && isWhitespace(text.charCodeAt(this.pos))) this.pos++;
  }

  /** Describes the character at the cursor for an error message. */
  #found(): string {
    if (this.pos >= this.#text.length) return 'end of input';
    return JSON.stringify(this.#text[this.pos]);
  }

  value(depth: number): unknown {
    const text = this.#text;
    const code = text.charCodeAt(this.pos);
    switch (code) {
      case 0x7b: // {
        return this.#object(depth + 1);
      case 0x5b: // [
        return this.#array(depth + 1);
      case 0x22: // "
        return this.#string();
      case 0x74: // t
        return this.#literal('true', true);
      case 0x66: // f
        return this.#literal('false', false);
      case 0x6e: // n
        return this.#literal('null', null);
      default:
        if (code === 0x2d || (code >= 0x30 && code <= 0x39)) return this.#number();
        return this.error('E_JSON_SYNTAX', `expected a value, found ${this.#found()}`);
    }
  }

  #literal(word: string, value: unknown): unknown {
    if (!this.#text.startsWith(word, this.pos)) this.error('E_JSON_SYNTAX', `expected ${word}`);
    this.pos += word.length;
    return value;
  }

  #number(): number {
    const start = this.pos;
    NUMBER.lastIndex = start;
    const match = NUMBER.exec(this.#text);
    if (match === null) return this.error('E_JSON_SYNTAX', 'malformed number');
    this.pos = start + match[0].length;
    // A match that stops early left part of a bad number behind: "01" matches "0",
    // "1." and "1e" match "1". RFC 8259 allows none of them.
    const next = this.#text.charCodeAt(this.pos);
    if ((next >= 0x30 && next <= 0x39) || next === 0x2e || next === 0x65 || next === 0x45) this.error('E_JSON_SYNTAX', 'malformed number');
    const value = Number(match[0]);
    if (!Number.isFinite(value)) {
      this.error('E_JSON_NUMBER_RANGE', `number ${match[0].length > 40 ? `${match[0].slice(0, 40)}…` : match[0]} overflows a double`, start);
    }
    return value;
  }

  #string(): string {
    const text = this.#text;
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      PLAIN_RUN.lastIndex = this.pos;
      PLAIN_RUN.exec(text);
      out += text.slice(this.pos, PLAIN_RUN.lastIndex);
      this.pos = PLAIN_RUN.lastIndex;
      if (this.pos >= text.length) this.error('E_JSON_SYNTAX', 'unterminated string', start);
      const code = text.charCodeAt(this.pos);
      if (code === 0x22) {
        this.pos++;
        break;
      }
      if (code < 0x20) this.error('E_JSON_SYNTAX', `unescaped control character U+${code.toString(16).padStart(4, '0')} in string`);
      // A backslash.
      const esc = text[this.pos + 1];
      if (esc === 'u') {
        const hex = text.slice(this.pos + 2, this.pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.error('E_JSON_SYNTAX', 'bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += 6;
      } else {
        const replacement = esc === undefined ? undefined : ESCAPES[esc];
        if (replacement === undefined) this.error('E_JSON_SYNTAX', `bad escape \\${esc ?? ''}`);
        out += replacement;
        this.pos += 2;
      }
    }
    // Checked once on the decoded string: catches raw and escaped lone surrogates alike,
    // and accepts a pair written half raw, half escaped (it is the same string).
    const lone = MAY_HOLD_SURROGATE.test(out) ? loneSurrogateAt(out) : -1;
    if (lone !== -1) {
      this.error('E_JSON_LONE_SURROGATE', `unpaired surrogate U+${out.charCodeAt(lone).toString(16).toUpperCase()} in the string starting`, start);
    }
    return out;
  }

  #array(depth: number): unknown[] {
    if (depth > this.#maxDepth) this.error('E_JSON_TOO_DEEP', `nesting exceeds max depth ${this.#maxDepth}`);
    this.pos++; // [
    const out: unknown[] = [];
    this.skipWhitespace();
    if (this.#text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      out.push(this.value(depth));
      this.skipWhitespace();
      const code = this.#text.charCodeAt(this.pos);
      if (code === 0x2c) {
        this.pos++;
        continue;
      }
      if (code === 0x5d) {
        this.pos++;
        return out;
      }
      this.error('E_JSON_SYNTAX', `expected , or ] in array, found ${this.#found()}`);
    }
  }

  #object(depth: number): Record<string, unknown> {
    if (depth > this.#maxDepth) this.error('E_JSON_TOO_DEEP', `nesting exceeds max depth ${this.#maxDepth}`);
    this.pos++; // {
    const out: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.#text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.#text.charCodeAt(this.pos) !== 0x22) this.error('E_JSON_SYNTAX', `expected a member name, found ${this.#found()}`);
      const nameAt = this.pos;
      const name = this.#string();
      if (Object.hasOwn(out, name)) this.error('E_JSON_DUPLICATE_MEMBER', `duplicate member name ${JSON.stringify(name)}`, nameAt);
      this.skipWhitespace();
      if (this.#text.charCodeAt(this.pos) !== 0x3a) this.error('E_JSON_SYNTAX', `expected : after member name, found ${this.#found()}`);
      this.pos++;
      this.skipWhitespace();
      const value = this.value(depth);
      // Plain assignment would let a "__proto__" member replace the object's prototype
      // instead of becoming an ordinary member; define that one, as JSON.parse does.
      if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
      else out[name] = value;
      this.skipWhitespace();
      const code = this.#text.charCodeAt(this.pos);
      if (code === 0x2c) {
        this.pos++;
        continue;
      }
      if (code === 0x7d) {
        this.pos++;
        return out;
      }
      this.error('E_JSON_SYNTAX', `expected , or } in object, found ${this.#found()}`);
    }
  }
}
