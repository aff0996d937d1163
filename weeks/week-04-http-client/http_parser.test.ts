/**
 * The response parser: valid and malformed corpora, every limit at its edge, and the
 * properties: a response split at every boundary parses the same, a generated
 * response survives the round trip, and no mutation of a valid response makes the
 * parser throw anything but a coded HttpError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HTTP_ERRORS, HTTP_TRANSIENT, HttpError, isTransientHttpError, type HttpErrorCode } from './catalog.ts';
import { DEFAULT_HTTP_LIMITS, HttpResponseParser, headerValue, parseHttpResponse, type HttpHeader, type HttpParserOptions, type HttpResponse } from './http_parser.ts';

const SEED = Number(process.env.FC_SEED ?? 20260402);

/** Bytes of a string whose characters are all below 256 (one byte each). */
function bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** The code a parse ends with, or 'ok'. */
function verdict(input: Uint8Array, options?: HttpParserOptions): string {
  try {
    parseHttpResponse(input, options);
    return 'ok';
  } catch (error) {
    if (error instanceof HttpError) return error.code;
    throw error;
  }
}

/** Feeds the parts one after another, then the close; returns the response or the code. */
function parseInParts(parts: readonly Uint8Array[], options?: HttpParserOptions): HttpResponse | string {
  const parser = new HttpResponseParser(options);
  try {
    for (const part of parts) parser.feed(part);
    return parser.end();
  } catch (error) {
    if (error instanceof HttpError) return error.code;
    throw error;
  }
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';

describe('HttpResponseParser', () => {
  describe('when the response is valid', () => {
    it('reads the status line, headers and a Content-Length body', () => {
      const r = parseHttpResponse(bytes(OK));
      expect([r.version, r.status, r.reason, r.framing]).toEqual(['1.1', 200, 'OK', 'length']);
      expect(r.headers).toEqual([['Content-Type', 'text/plain'], ['Content-Length', '5']]);
      expect(new TextDecoder().decode(r.body)).toBe('hello');
    });

    it('decodes a chunked body with extensions and keeps trailers apart from headers', () => {
      const r = parseHttpResponse(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=v ; q="a \\"b\\""\r\nhello\r\n01\r\n!\r\n0\r\nDigest: sha-256=x\r\n\r\n'));
      expect(new TextDecoder().decode(r.body)).toBe('hello!');
      expect(r.framing).toBe('chunked');
      expect(r.trailers).toEqual([['Digest', 'sha-256=x']]);
      expect(headerValue(r.headers, 'transfer-encoding')).toBe('chunked');
    });

    it('reads to the close when there is neither Content-Length nor Transfer-Encoding', () => {
      const r = parseHttpResponse(bytes('HTTP/1.0 200 OK\r\n\r\nuntil the end'));
      expect([r.version, r.framing, new TextDecoder().decode(r.body)]).toEqual(['1.0', 'close', 'until the end']);
    });

    it.each([
      ['204 No Content', 'HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n', {}],
      ['304 Not Modified', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 300\r\n\r\n', {}],
      ['a response to HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n', { requestMethod: 'HEAD' }],
    ])('finds no body in %s, whatever Content-Length says', (_, text, options) => {
      const parser = new HttpResponseParser(options);
      parser.feed(bytes(text));
      expect(parser.state).toBe('done');
      expect(parser.result().body.length).toBe(0);
    });

    it('skips interim 1xx responses and reports them', () => {
      const r = parseHttpResponse(bytes('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n' + OK));
      expect(r.status).toBe(200);
      expect(r.interim.map((h) => h.status)).toEqual([100, 103]);
    });

    it('accepts an empty reason, a missing reason and a minor version above 1', () => {
      expect(parseHttpResponse(bytes('HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n')).reason).toBe('');
      expect(parseHttpResponse(bytes('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n')).reason).toBe('');
      expect(parseHttpResponse(bytes('HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n')).version).toBe('1.2');
    });

    it('unfolds an obs-fold continuation into one space (RFC 9112 §5.2) and trims OWS', () => {
      const r = parseHttpResponse(bytes('HTTP/1.1 200 OK\r\nX-Long:  first \r\n \t second\r\nX-Tab:\tv\t\r\nContent-Length: 0\r\n\r\n'));
      expect(r.headers.slice(0, 2)).toEqual([['X-Long', 'first second'], ['X-Tab', 'v']]);
    });

    it('accepts repeated identical Content-Length values (RFC 9110 §8.6)', () => {
      const r = parseHttpResponse(bytes('HTTP/1.1 200 OK\r\nContent-Length: 2, 02\r\nContent-Length: 2\r\n\r\nhi'));
      expect(new TextDecoder().decode(r.body)).toBe('hi');
    });

    it('stops at the end of the response and does not consume the bytes after it', () => {
      const parser = new HttpResponseParser();
      const input = bytes(`${OK}HTTP/1.1 200 OK\r\n`);
      expect(parser.feed(input)).toBe(OK.length);
      expect(parser.state).toBe('done');
      expect(parser.feed(bytes('more'))).toBe(0);
    });

    it('keeps header bytes above 0x7F as obs-text, one character per byte', () => {
      const r = parseHttpResponse(bytes('HTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\nContent-Length: 0\r\n\r\n'));
      expect(headerValue(r.headers, 'x-name')).toBe('caf\xe9');
    });
  });

  // #region malformed-corpus
  describe('when the response is malformed', () => {
    const cases: readonly (readonly [string, string, HttpErrorCode])[] = [
      ['a header line with whitespace before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello', 'E_HTTP_BAD_HEADER'],
      ['a header line without a colon', 'HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n', 'E_HTTP_BAD_HEADER'],
      ['an empty header name', 'HTTP/1.1 200 OK\r\n: value\r\n\r\n', 'E_HTTP_BAD_HEADER'],
      ['a non-token byte in a header name', 'HTTP/1.1 200 OK\r\nX(y): 1\r\n\r\n', 'E_HTTP_BAD_HEADER'],
      ['a NUL in a header value', 'HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n', 'E_HTTP_BAD_HEADER'],
      ['a DEL in a header value', 'HTTP/1.1 200 OK\r\nX: a\x7fb\r\n\r\n', 'E_HTTP_BAD_HEADER'],
      ['a bare CR inside a header line', 'HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n', 'E_HTTP_BAD_HEADER'],
      ['a header line ending in a bare LF', 'HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n', 'E_HTTP_BAD_HEADER'],
      ['whitespace before the first header', 'HTTP/1.1 200 OK\r\n X: 1\r\n\r\n', 'E_HTTP_BAD_HEADER'],
      ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello', 'E_HTTP_BAD_HEADER'],
      ['an unrequested transfer coding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx', 'E_HTTP_BAD_HEADER'],
      ['chunked applied twice', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n', 'E_HTTP_BAD_HEADER'],
      ['a status line ending in a bare LF', 'HTTP/1.1 200 OK\nContent-Length: 0\n\n', 'E_HTTP_BAD_STATUS_LINE'],
      ['a two-digit status', 'HTTP/1.1 20 OK\r\n\r\n', 'E_HTTP_BAD_STATUS_LINE'],
      ['a status below 100', 'HTTP/1.1 099 Odd\r\n\r\n', 'E_HTTP_BAD_STATUS_LINE'],
      ['a status above 599 (RFC 9110 §15: invalid)', 'HTTP/1.1 999 Odd\r\n\r\n', 'E_HTTP_BAD_STATUS_LINE'],
      ['HTTP/2.0 in text', 'HTTP/2.0 200 OK\r\n\r\n', 'E_HTTP_BAD_STATUS_LINE'],
      ['a lower-case protocol name', 'http/1.1 200 OK\r\n\r\n', 'E_HTTP_BAD_STATUS_LINE'],
      ['a control byte in the reason', 'HTTP/1.1 200 O\x01K\r\n\r\n', 'E_HTTP_BAD_STATUS_LINE'],
      ['an empty line before the status line', '\r\nHTTP/1.1 200 OK\r\n\r\n', 'E_HTTP_BAD_STATUS_LINE'],
      ['a TLS alert instead of HTTP', '\x15\x03\x01\x00\x02\x02\x46\r\n', 'E_HTTP_BAD_STATUS_LINE'],
      ['Transfer-Encoding with Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'E_HTTP_CONFLICTING_LENGTH'],
      ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 'E_HTTP_CONFLICTING_LENGTH'],
      ['a Content-Length list that disagrees', 'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!', 'E_HTTP_CONFLICTING_LENGTH'],
      ['Transfer-Encoding in HTTP/1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'E_HTTP_CONFLICTING_LENGTH'],
      ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5g\r\nhello\r\n0\r\n\r\n', 'E_HTTP_BAD_CHUNK'],
      ['a chunk size with a trailing space', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n', 'E_HTTP_BAD_CHUNK'],
      ['chunk data longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nhello\r\n0\r\n\r\n', 'E_HTTP_BAD_CHUNK'],
      ['a chunk line ending in a bare LF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n', 'E_HTTP_BAD_CHUNK'],
      ['an unterminated quoted chunk extension', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a="x\r\nhello\r\n0\r\n\r\n', 'E_HTTP_BAD_CHUNK'],
      ['a chunk extension without a name', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;=x\r\nhello\r\n0\r\n\r\n', 'E_HTTP_BAD_CHUNK'],
      ['a chunk size beyond 2^48', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n', 'E_HTTP_BODY_TOO_LARGE'],
      ['a body cut short', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello', 'E_HTTP_TRUNCATED'],
      ['a chunked body without its last chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', 'E_HTTP_TRUNCATED'],
      ['a head cut short', 'HTTP/1.1 200 OK\r\nContent-Le', 'E_HTTP_TRUNCATED'],
      ['no bytes at all', '', 'E_HTTP_TRUNCATED'],
    ];

    it.each(cases)('[4.1] refuses %s with its code', (_, text, code) => {
      expect(verdict(bytes(text))).toBe(code);
    });

    it('[4.1] gives the same code however the malformed bytes are split into chunks', () => {
      for (const [, text, code] of cases) {
        const input = bytes(text);
        for (let cut = 0; cut <= input.length; cut += 1) {
          expect(parseInParts([input.subarray(0, cut), input.subarray(cut)]), `${JSON.stringify(text)} cut at ${cut}`).toBe(code);
        }
        expect(parseInParts([...input].map((b) => Uint8Array.of(b)))).toBe(code);
      }
    });
  });
  // #endregion malformed-corpus

  it('[4.1] keeps failing with the same error once it has failed', () => {
    const parser = new HttpResponseParser();
    expect(() => parser.feed(bytes('HTTP/1.1 200 OK\r\nBad Header: 1\r\n'))).toThrow(HttpError);
    let again: unknown;
    try {
      parser.feed(bytes('\r\n'));
    } catch (error) {
      again = error;
    }
    expect((again as HttpError).code).toBe('E_HTTP_BAD_HEADER');
    expect(() => parser.end()).toThrow(again as Error);
    expect(parser.state).toBe('failed');
  });

  // #region limits
  describe('limits, each accepted at its value and refused one byte over', () => {
    const L = { maxStatusLineBytes: 40, maxHeaderLineBytes: 30, maxHeaderCount: 3, maxHeaderBytes: 120, maxBodyBytes: 10, maxChunkLineBytes: 12 };
    const pad = (prefix: string, total: number): string => prefix + 'x'.repeat(total - prefix.length);
    interface LimitCase {
      readonly name: string;
      readonly make: (extra: number) => string;
      readonly code: HttpErrorCode;
      readonly more?: Partial<typeof L>;
    }
    const cases: readonly LimitCase[] = [
      { name: 'status line', make: (e) => `${pad('HTTP/1.1 200 ', 40 + e)}\r\nContent-Length: 0\r\n\r\n`, code: 'E_HTTP_HEADER_TOO_LARGE' },
      { name: 'header line', make: (e) => `HTTP/1.1 200 OK\r\n${pad('X-A: ', 30 + e)}\r\nContent-Length: 0\r\n\r\n`, code: 'E_HTTP_HEADER_TOO_LARGE' },
      { name: 'header count', make: (e) => `HTTP/1.1 200 OK\r\n${'X: 1\r\n'.repeat(2 + e)}Content-Length: 0\r\n\r\n`, code: 'E_HTTP_HEADER_TOO_LARGE' },
      { name: 'head bytes', make: (e) => { const head = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n'; return `${head}${pad('X: ', 120 - head.length - 4 + e)}\r\n\r\n`; }, code: 'E_HTTP_HEADER_TOO_LARGE', more: { maxHeaderLineBytes: 200 } },
      { name: 'Content-Length body', make: (e) => `HTTP/1.1 200 OK\r\nContent-Length: ${10 + e}\r\n\r\n${'b'.repeat(10 + e)}`, code: 'E_HTTP_BODY_TOO_LARGE' },
      { name: 'chunked body', make: (e) => `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nbbbbbb\r\n${(4 + e).toString(16)}\r\n${'b'.repeat(4 + e)}\r\n0\r\n\r\n`, code: 'E_HTTP_BODY_TOO_LARGE' },
      { name: 'body read to the close', make: (e) => `HTTP/1.1 200 OK\r\n\r\n${'b'.repeat(10 + e)}`, code: 'E_HTTP_BODY_TOO_LARGE' },
      { name: 'chunk-size line', make: (e) => `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${pad('1;e=', 12 + e)}\r\nb\r\n0\r\n\r\n`, code: 'E_HTTP_BAD_CHUNK' },
      { name: 'trailer count', make: (e) => `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'T: 1\r\n'.repeat(3 + e)}\r\n`, code: 'E_HTTP_HEADER_TOO_LARGE' },
    ];
    it.each(cases)('$name', ({ make, code, more }) => {
      const limits = { ...L, ...more };
      expect(verdict(bytes(make(0)), { limits })).toBe('ok');
      expect(verdict(bytes(make(1)), { limits })).toBe(code);
    });

    it('refuses an endless header line after a bounded number of bytes, without waiting for its end', () => {
      const parser = new HttpResponseParser();
      parser.feed(bytes('HTTP/1.1 200 OK\r\nX: '));
      const filler = new Uint8Array(1024).fill(0x61);
      let fed = 0;
      let code: string | undefined;
      while (code === undefined && fed < 1024 * 1024) {
        try {
          parser.feed(filler);
          fed += filler.length;
        } catch (error) {
          code = (error as HttpError).code;
        }
      }
      expect(code).toBe('E_HTTP_HEADER_TOO_LARGE');
      expect(fed).toBeLessThanOrEqual(DEFAULT_HTTP_LIMITS.maxHeaderLineBytes);
    });

    it('refuses a Content-Length above the body limit before reading the body', () => {
      const parser = new HttpResponseParser({ limits: { maxBodyBytes: 100 } });
      expect(() => parser.feed(bytes('HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n'))).toThrow(
        expect.objectContaining({ code: 'E_HTTP_BODY_TOO_LARGE' }),
      );
    });
  });
  // #endregion limits
});

// ---------------------------------------------------------------------------------------
// Generated responses

/** A response as a generator describes it, before serialisation. */
interface ResponseModel {
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly HttpHeader[];
  readonly body: Uint8Array;
  readonly framing: 'length' | 'chunked' | 'close';
  /** Chunk sizes summing to the body length (chunked only). */
  readonly cuts: readonly number[];
  /** Extension text after each chunk size, e.g. `;a=b`. */
  readonly extensions: readonly string[];
  readonly trailers: readonly HttpHeader[];
  readonly interim: boolean;
}

const tokenArb = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const nameArb = tokenArb.filter((n) => !/^(content-length|transfer-encoding)$/i.test(n));
const valueArb = fc.stringMatching(/^([\x21-\x7E]([ \t]{0,2}[\x21-\x7E]){0,10})?$/);
const headerArb: fc.Arbitrary<HttpHeader> = fc.tuple(nameArb, valueArb);
const extensionArb = fc.oneof(
  fc.constant(''),
  tokenArb.map((n) => `;${n}`),
  fc.tuple(tokenArb, tokenArb).map(([n, v]) => ` ; ${n}=${v}`),
  fc.tuple(tokenArb, fc.stringMatching(/^[\x20\x21\x23-\x5B\x5D-\x7E]{0,8}$/)).map(([n, v]) => `;${n}="${v}\\""`),
);

const responseArb: fc.Arbitrary<ResponseModel> = fc
  .record({
    status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
    reason: fc.stringMatching(/^[\x20-\x7E]{0,20}$/),
    headers: fc.array(headerArb, { maxLength: 6 }),
    body: fc.uint8Array({ maxLength: 120 }),
    framing: fc.constantFrom('length' as const, 'chunked' as const, 'close' as const),
    cutSeeds: fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 8 }),
    extensions: fc.array(extensionArb, { minLength: 10, maxLength: 10 }),
    trailers: fc.array(headerArb, { maxLength: 3 }),
    interim: fc.boolean(),
  })
  .map(({ cutSeeds, ...rest }) => {
    const cuts: number[] = [];
    let left = rest.body.length;
    for (const seed of cutSeeds) {
      if (left === 0) break;
      const size = Math.min(seed, left);
      cuts.push(size);
      left -= size;
    }
    if (left > 0) cuts.push(left);
    return { ...rest, cuts, trailers: rest.framing === 'chunked' ? rest.trailers : [] };
  });

/** Serialises a model the way a conforming server could. */
function serialise(model: ResponseModel): Uint8Array {
  const head = model.interim ? 'HTTP/1.1 100 Continue\r\n\r\n' : '';
  const lines = [`HTTP/1.1 ${model.status} ${model.reason}`, ...model.headers.map(([n, v]) => `${n}: ${v}`)];
  if (model.framing === 'length') lines.push(`Content-Length: ${model.body.length}`);
  if (model.framing === 'chunked') lines.push('Transfer-Encoding: chunked');
  const parts: Uint8Array[] = [bytes(`${head}${lines.join('\r\n')}\r\n\r\n`)];
  if (model.framing === 'chunked') {
    let offset = 0;
    model.cuts.forEach((size, i) => {
      parts.push(bytes(`${size.toString(16)}${model.extensions[i % 10]}\r\n`), model.body.subarray(offset, offset + size), bytes('\r\n'));
      offset += size;
    });
    parts.push(bytes(`0${model.extensions[9]}\r\n${model.trailers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`));
  } else {
    parts.push(model.body);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** What parsing should give back: trimmed header values, the framing header added. */
function expectedOf(model: ResponseModel): Partial<HttpResponse> {
  const trim = (fields: readonly HttpHeader[]): HttpHeader[] => fields.map(([n, v]) => [n, v.replace(/^[ \t]+|[ \t]+$/g, '')]);
  const framingHeader: HttpHeader[] =
    model.framing === 'length' ? [['Content-Length', String(model.body.length)]] : model.framing === 'chunked' ? [['Transfer-Encoding', 'chunked']] : [];
  return { status: model.status, reason: model.reason, headers: [...trim(model.headers), ...framingHeader], body: model.body, trailers: trim(model.trailers), framing: model.framing };
}

describe('HttpResponseParser properties', () => {
  // #region round-trip
  it('round-trips generated responses: serialise, parse, get the same status, headers, body and trailers', () => {
    fc.assert(
      fc.property(responseArb, (model) => {
        const parsed = parseHttpResponse(serialise(model));
        expect(parsed).toMatchObject(expectedOf(model));
        expect(parsed.interim.length).toBe(model.interim ? 1 : 0);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
  // #endregion round-trip

  // #region every-split
  it('[4.1] parses a valid response split at every byte boundary exactly as in one piece', () => {
    fc.assert(
      fc.property(responseArb, (model) => {
        const input = serialise(model);
        const whole = parseHttpResponse(input);
        for (let cut = 0; cut <= input.length; cut += 1) {
          expect(parseInParts([input.subarray(0, cut), input.subarray(cut)])).toEqual(whole);
        }
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('parses a valid response fed in random chunk sizes, and byte by byte, exactly as in one piece', () => {
    fc.assert(
      fc.property(responseArb, fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 30 }), (model, sizes) => {
        const input = serialise(model);
        const parts: Uint8Array[] = [];
        for (let at = 0, i = 0; at < input.length; i += 1) {
          const size = sizes[i % sizes.length] as number;
          parts.push(input.subarray(at, at + size));
          at += size;
        }
        const whole = parseHttpResponse(input);
        expect(parseInParts(parts)).toEqual(whole);
        expect(parseInParts([...input].map((b) => Uint8Array.of(b)))).toEqual(whole);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
  // #endregion every-split

  // #region fuzz
  it('[4.1] throws nothing but a coded HttpError for any mutation of a valid response', () => {
    const mutationArb = fc.record({
      kind: fc.constantFrom('flip', 'insert', 'delete', 'duplicate', 'truncate'),
      at: fc.nat(),
      byte: fc.oneof(fc.constantFrom(0, 9, 10, 13, 32, 0x3a, 0x3b, 0x22, 0x30, 0x66, 0x7f, 0xff), fc.integer({ min: 0, max: 255 })),
      length: fc.integer({ min: 1, max: 24 }),
    });
    const parserCodes = new Set(Object.keys(HTTP_ERRORS));
    fc.assert(
      fc.property(responseArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 64 }), (model, mutations, chunk) => {
        let input = [...serialise(model)];
        for (const m of mutations) {
          const at = input.length === 0 ? 0 : m.at % input.length;
          if (m.kind === 'flip') input[at] = m.byte;
          else if (m.kind === 'insert') input.splice(at, 0, m.byte);
          else if (m.kind === 'delete') input.splice(at, m.length);
          else if (m.kind === 'duplicate') input.splice(at, 0, ...input.slice(at, at + m.length));
          else input = input.slice(0, at);
        }
        const mutated = Uint8Array.from(input);
        const parts: Uint8Array[] = [];
        for (let at = 0; at < mutated.length; at += chunk) parts.push(mutated.subarray(at, at + chunk));
        const parser = new HttpResponseParser({ limits: { maxBodyBytes: 4096 } });
        try {
          for (const part of parts) parser.feed(part);
          parser.end();
        } catch (error) {
          // Only coded failures: a TypeError or RangeError here is a parser bug.
          expect(error).toBeInstanceOf(HttpError);
          expect(parserCodes.has((error as HttpError).code)).toBe(true);
        }
      }),
      { seed: SEED, numRuns: 3_000 },
    );
  });
  // #endregion fuzz
});

describe('catalog', () => {
  it('classifies every code as transient or permanent, and truncation as transient', () => {
    expect(Object.keys(HTTP_TRANSIENT).sort()).toEqual(Object.keys(HTTP_ERRORS).sort());
    const error = new HttpError('E_HTTP_TRUNCATED', 'Cannot read response: cut short');
    expect([error.transient, error.definite, isTransientHttpError(error)]).toEqual([true, false, true]);
    expect(isTransientHttpError({ code: 'E_HTTP_BAD_HEADER' })).toBe(false);
    expect(isTransientHttpError({ code: 'E_HTTP_READ_TIMEOUT' })).toBe(true);
    expect(isTransientHttpError(new Error('plain'))).toBe(false);
    expect(isTransientHttpError(null)).toBe(false);
  });
});
