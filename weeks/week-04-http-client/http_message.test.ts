/**
 * Writing requests and responses, and reading URLs: exact bytes for a request, no
 * way to inject a header line, and the permanent address failures decided before
 * any connection.
 */
import { describe, expect, it } from 'vitest';
import { HttpError, connectFailureCode } from './catalog.ts';
import { checkHeaderField, encodeHttpRequest, encodeHttpResponse } from './http_message.ts';
import { parseHttpResponse } from './http_parser.ts';
import { parseHttpTarget } from './http_target.ts';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** The code of the error `run` throws. */
function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof HttpError) return error.code;
    throw error;
  }
  return 'no error';
}

describe('encodeHttpRequest', () => {
  it('writes the request line, Host, the headers in order and the empty line', () => {
    const request = encodeHttpRequest({ method: 'GET', target: '/healthz?x=1', host: '127.0.0.1:8080', headers: [['X-Request-Id', 'r-1']] });
    expect(text(request)).toBe('GET /healthz?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Request-Id: r-1\r\n\r\n');
  });

  it('adds Content-Length for a body, and for a POST without one', () => {
    const post = encodeHttpRequest({ method: 'POST', target: '/', host: 'h', body: new TextEncoder().encode('{"a":1}') });
    expect(text(post)).toBe('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\n\r\n{"a":1}');
    expect(text(encodeHttpRequest({ method: 'POST', target: '/', host: 'h' }))).toContain('Content-Length: 0\r\n');
  });

  it.each([
    ['a CRLF in a value (header injection)', () => encodeHttpRequest({ method: 'GET', target: '/', host: 'h', headers: [['X-Request-Id', 'a\r\nX-Admin: 1']] })],
    ['a space in a name', () => encodeHttpRequest({ method: 'GET', target: '/', host: 'h', headers: [['X Id', '1']] })],
    ['a caller-set Content-Length', () => encodeHttpRequest({ method: 'GET', target: '/', host: 'h', headers: [['content-length', '1']] })],
    ['a method that is not a token', () => encodeHttpRequest({ method: 'G T', target: '/', host: 'h' })],
    ['a target with a space', () => encodeHttpRequest({ method: 'GET', target: '/a b', host: 'h' })],
    ['a value with leading whitespace', () => checkHeaderField('X', ' v')],
  ])('refuses %s with E_HTTP_BAD_REQUEST', (_, run) => {
    expect(codeOf(run)).toBe('E_HTTP_BAD_REQUEST');
  });
});

describe('encodeHttpResponse', () => {
  it('writes a response the parser reads back', () => {
    const r = parseHttpResponse(encodeHttpResponse({ status: 200, reason: 'OK', headers: [['Content-Type', 'application/json']], body: '{"ok":true}' }));
    expect([r.status, r.reason, r.headers, text(r.body)]).toEqual([200, 'OK', [['Content-Type', 'application/json'], ['Content-Length', '11']], '{"ok":true}']);
  });

  it('refuses a status outside 100-999 as a programmer error', () => {
    expect(() => encodeHttpResponse({ status: 42 })).toThrow(RangeError);
  });
});

describe('parseHttpTarget', () => {
  it('splits a URL into the connect address, the Host header and the request target', () => {
    expect(parseHttpTarget('http://127.0.0.1:8080/healthz?v=1#frag')).toEqual({
      url: 'http://127.0.0.1:8080/healthz?v=1#frag',
      host: '127.0.0.1',
      port: 8080,
      hostHeader: '127.0.0.1:8080',
      path: '/healthz?v=1',
    });
    expect(parseHttpTarget('http://[::1]/')).toMatchObject({ host: '::1', port: 80, hostHeader: '[::1]', path: '/' });
  });

  it.each([
    ['not a URL', 'E_HTTP_BAD_URL'],
    ['https://127.0.0.1/', 'E_HTTP_BAD_URL'],
    ['http://256.0.0.1/', 'E_HTTP_BAD_URL'],
    ['http://user:pw@127.0.0.1/', 'E_HTTP_BAD_URL'],
    ['http://127.0.0.1:0/', 'E_HTTP_BAD_ADDRESS'],
    ['http://224.0.0.1/', 'E_HTTP_BAD_ADDRESS'],
    ['http://255.255.255.255/', 'E_HTTP_BAD_ADDRESS'],
    ['http://0.0.0.0:80/', 'E_HTTP_BAD_ADDRESS'],
    ['http://[ff02::1]/', 'E_HTTP_BAD_ADDRESS'],
    ['http://[::]/', 'E_HTTP_BAD_ADDRESS'],
  ])('refuses %s with %s (permanent)', (url, code) => {
    let error: unknown;
    try {
      parseHttpTarget(url);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code, transient: false, definite: true });
  });
});

describe('connectFailureCode', () => {
  it.each([
    ['ECONNREFUSED', 'E_HTTP_CONNECT_REFUSED'],
    ['ETIMEDOUT', 'E_HTTP_CONNECT_TIMEOUT'],
    ['ENOTFOUND', 'E_HTTP_HOST_NOT_FOUND'],
    ['EADDRNOTAVAIL', 'E_HTTP_BAD_ADDRESS'],
    ['EHOSTUNREACH', 'E_HTTP_UNREACHABLE'],
    ['EAI_AGAIN', 'E_HTTP_UNREACHABLE'],
    [undefined, 'E_HTTP_UNREACHABLE'],
  ])('maps %s to %s', (errno, code) => {
    expect(connectFailureCode(errno)).toBe(code);
  });
});
