/**
 * How a response's body ends, decided from its status and header fields in the order
 * of RFC 9112 §6.3, refusing every framing that two parsers could read differently
 * (the request-smuggling and response-splitting defence). Private to week 4.
 * @module
 */
import { HttpError } from './catalog.ts';

/** The decision: no body, a counted body, a chunked body, or a body that ends with the connection. */
export type BodyPlan =
  | { readonly framing: 'none' }
  | { readonly framing: 'length'; readonly length: number }
  | { readonly framing: 'chunked' }
  | { readonly framing: 'close' };

/** What besides the fields the decision depends on. */
export interface BodyPlanContext {
  /** The response's version, `'1.1'` or `'1.0'`. */
  readonly version: string;
  /** The final status code (interim 1xx responses are handled before this). */
  readonly status: number;
  /** True when the request was HEAD. */
  readonly noBody: boolean;
  /** The body limit, checked against Content-Length before any body byte is read. */
  readonly maxBodyBytes: number;
}

// #region framing
/**
 * Decides how the body ends. The numbers in the comments are the steps of §6.3.
 * @throws {@link HttpError} `E_HTTP_CONFLICTING_LENGTH` when the length is stated in two
 *   ways that disagree, `E_HTTP_BAD_HEADER` for a Content-Length that is not a number or
 *   a transfer coding other than one chunked, `E_HTTP_BODY_TOO_LARGE` for a
 *   Content-Length over the limit
 */
export function planBody(fields: readonly (readonly [string, string])[], context: BodyPlanContext): BodyPlan {
  const lengths: string[] = [];
  const codings: string[] = [];
  let hasCodings = false;
  for (const [name, value] of fields) {
    const lower = name.toLowerCase();
    if (lower === 'content-length') lengths.push(...value.split(',').map((v) => v.trim()));
    else if (lower === 'transfer-encoding') {
      hasCodings = true;
      codings.push(...value.split(',').map((v) => v.trim().toLowerCase()).filter((v) => v !== ''));
    }
  }
  const smuggle = (detail: string): HttpError => new HttpError('E_HTTP_CONFLICTING_LENGTH', `Cannot trust response framing: ${detail}`);
  const badHeader = (detail: string): HttpError => new HttpError('E_HTTP_BAD_HEADER', `Cannot read response: ${detail}`);
  // 3. Transfer-Encoding and Content-Length together: the classic smuggling vector.
  if (hasCodings && lengths.length > 0) throw smuggle('the response has both Transfer-Encoding and Content-Length');
  let length: number | undefined;
  if (hasCodings) {
    // An HTTP/1.0 recipient would ignore Transfer-Encoding and read to the close (§6.1).
    if (context.version === '1.0') throw smuggle('an HTTP/1.0 response carries Transfer-Encoding');
    if (codings.length === 0) throw badHeader('Transfer-Encoding is empty');
    const other = codings.find((c) => c !== 'chunked');
    if (other !== undefined) throw badHeader(`transfer coding ${JSON.stringify(other)} was not requested (only chunked is accepted)`);
    if (codings.length > 1) throw badHeader('chunked is applied more than once');
  } else if (lengths.length > 0) {
    // 5. Every Content-Length value must be digits, and all of them the same number.
    for (const value of lengths) if (!/^\d+$/.test(value)) throw badHeader(`Content-Length ${JSON.stringify(value)} is not a decimal number`);
    const distinct = new Set(lengths.map((v) => v.replace(/^0+(?=\d)/, '')));
    if (distinct.size > 1) throw smuggle(`the response has different Content-Length values: ${[...distinct].join(', ')}`);
    const digits = [...distinct][0] as string;
    length = digits.length > 15 ? Number.POSITIVE_INFINITY : Number(digits);
  }
  // 1. HEAD, 1xx (only 101 reaches here), 204 and 304 responses never have a body.
  if (context.noBody || context.status === 101 || context.status === 204 || context.status === 304) return { framing: 'none' };
  // 4. Chunked is the final (and only) coding.
  if (hasCodings) return { framing: 'chunked' };
  // 6. A valid Content-Length.
  if (length !== undefined) {
    if (length > context.maxBodyBytes) {
      throw new HttpError('E_HTTP_BODY_TOO_LARGE', `Cannot read response: Content-Length ${lengths[0]} exceeds max ${context.maxBodyBytes} bytes`);
    }
    return { framing: 'length', length };
  }
  // 8. Neither: the body runs until the server closes the connection.
  return { framing: 'close' };
}
// #endregion framing
