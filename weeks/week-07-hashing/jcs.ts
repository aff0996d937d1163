/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): one byte form for one JSON value, so
 * that a hash or a signature over "the same document" is over the same bytes.
 *
 * The rules, as implemented here (RFC 8785 §3.2):
 * - no whitespace; `null`, `true`, `false` as written;
 * - numbers as ECMAScript `Number.prototype.toString` writes them (§3.2.2.3), which
 *   is exactly `String(n)` in JavaScript; `-0` becomes `0`;
 * - strings with the minimal escapes of §3.2.2.2 (see {@link escapeJsonString});
 * - object members sorted by their names as arrays of UTF-16 code units (§3.2.3),
 *   recursively; arrays keep their order;
 * - the input must be I-JSON (RFC 7493): anything else is refused, never patched up.
 * @see https://www.rfc-editor.org/rfc/rfc8785
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { HASH_ERRORS } from './catalog.ts';

const fail = errorFactory(HASH_ERRORS);

/**
 * The deepest nesting of arrays and objects accepted, by canonicalize (a cycle would
 * otherwise recurse forever) and by the strict parser alike.
 */
export const DEFAULT_MAX_JSON_DEPTH = 128;

const encoder = new TextEncoder();

// #region escape-string
/** Characters a JSON string must escape: `"`, `\` and the controls below U+0020. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** The short escapes of RFC 8785 §3.2.2.2; other controls become `\u00xx`, lowercase. */
const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r',
};

/**
 * Writes a string as JCS wants it: quotes around it, `"` and `\` escaped, the five
 * short control escapes, `\u00xx` (lowercase hex) for the other controls, and every
 * other character, `/`, U+007F and all non-ASCII included, as itself.
 * The caller has checked that `text` is well-formed UTF-16.
 */
export function escapeJsonString(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  let out = '"';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x20 && code !== 0x22 && code !== 0x5c) continue;
    const ch = text[i] as string;
    out += text.slice(start, i) + (SHORT_ESCAPES[ch] ?? `\\u00${code.toString(16).padStart(2, '0')}`);
    start = i + 1;
  }
  return `${out}${text.slice(start)}"`;
}
// #endregion escape-string

/**
 * The offset of the first unpaired surrogate in `text`, or -1 when it is
 * well-formed UTF-16 (what `String.prototype.isWellFormed` tells, without the offset).
 */
export function loneSurrogateAt(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xd800 || code > 0xdfff) continue;
    if (code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

/** Unicode code points below U+D800 hold no surrogates: most strings pass this test at once. */
const MAY_HOLD_SURROGATE = /[\ud800-\udfff]/;

/** Writes a string key or value, refusing lone surrogates. */
function canonicalString(text: string, path: string): string {
  if (MAY_HOLD_SURROGATE.test(text)) {
    const at = loneSurrogateAt(text);
    if (at !== -1) {
      throw fail('E_JSON_LONE_SURROGATE', `Cannot canonicalize ${path}: unpaired surrogate U+${text.charCodeAt(at).toString(16).toUpperCase()} at index ${at}`);
    }
  }
  return escapeJsonString(text);
}

/** True for `{}`-style objects: prototype Object.prototype or null. */
function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Names a member in a path: `$.name`, or `$["odd name"]` when it is not an identifier. */
function memberPath(path: string, name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`;
}

// #region canonicalize
/**
 * Serializes a JSON value in RFC 8785 canonical form.
 * @param value - plain JSON data: null, booleans, finite numbers, well-formed strings,
 *   arrays and plain objects (such as {@link parseStrictJson} returns)
 * @returns the canonical text; {@link canonicalBytes} gives its UTF-8
 * @throws {@link CivicError} `E_JSON_NUMBER_RANGE` for NaN or ±Infinity,
 *   `E_JSON_LONE_SURROGATE` for an unpaired surrogate in a name or a string,
 *   `E_JSON_UNSUPPORTED_VALUE` for undefined, functions, bigints, symbols, array holes
 *   and non-plain objects (Date, Map, class instances), `E_JSON_TOO_DEEP` past
 *   `maxDepth` levels (cycles end here too); each message names the path, e.g. `$.a[2]`
 * @see RFC 8785 §3.2
 */
export function canonicalize(value: unknown, options: { maxDepth?: number } = {}): string {
  return serialize(value, '$', 0, options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH);
}

function serialize(value: unknown, path: string, depth: number, maxDepth: number): string {
  switch (typeof value) {
    case 'string':
      return canonicalString(value, path);
    case 'number':
      // §3.2.2.3: ECMAScript's Number::toString is the JCS number form; String(-0) is "0".
      if (!Number.isFinite(value)) throw fail('E_JSON_NUMBER_RANGE', `Cannot canonicalize ${path}: ${value} is not a finite number`);
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw fail('E_JSON_UNSUPPORTED_VALUE', `Cannot canonicalize ${path}: a ${typeof value} has no JSON form`);
  }
  if (value === null) return 'null';
  if (depth >= maxDepth) throw fail('E_JSON_TOO_DEEP', `Cannot canonicalize ${path}: nesting exceeds max depth ${maxDepth}`);
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw fail('E_JSON_UNSUPPORTED_VALUE', `Cannot canonicalize ${path}[${i}]: the array has a hole`);
      parts.push(serialize(value[i], `${path}[${i}]`, depth + 1, maxDepth));
    }
    return `[${parts.join(',')}]`;
  }
  if (!isPlainObject(value)) {
    const kind = (value as object).constructor?.name ?? 'object';
    throw fail('E_JSON_UNSUPPORTED_VALUE', `Cannot canonicalize ${path}: a ${kind} is not a plain JSON object`);
  }
  const record = value as Record<string, unknown>;
  // §3.2.3: sort names as arrays of UTF-16 code units. Array.prototype.sort without a
  // comparator compares strings exactly so; localeCompare would be wrong (french.json),
  // and so would code-point or UTF-8 order (weird.json: U+1F602 sorts before U+FB33).
  const names = Object.keys(record).sort();
  const parts: string[] = [];
  for (const name of names) {
    const child = memberPath(path, name);
    parts.push(`${canonicalString(name, child)}:${serialize(record[name], child, depth + 1, maxDepth)}`);
  }
  return `{${parts.join(',')}}`;
}
// #endregion canonicalize

/** The UTF-8 bytes of {@link canonicalize}: what gets hashed and signed. */
export function canonicalBytes(value: unknown, options: { maxDepth?: number } = {}): Uint8Array {
  return encoder.encode(canonicalize(value, options));
}
