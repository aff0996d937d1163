/**
 * The HTTP client against real loopback servers that misbehave on purpose, one per
 * test on port 0: the failure matrix (each row a code, a transient verdict and a
 * definite verdict), the three timeouts firing independently, and the request id
 * on the wire.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from './catalog.ts';
import { httpRequest, type HttpRequestOptions } from './node_http_client.ts';
import { blackhole, closedPort, replyAndClose, serve, trickle, type Blackhole, type Script } from './testdata/servers.ts';

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Runs one request against a fresh server running `script`, and closes the server. */
async function against(script: Script, options: Partial<HttpRequestOptions> = {}, path = '/'): Promise<{ result: Awaited<ReturnType<typeof httpRequest>> | HttpError; requests: string[] }> {
  const server = await serve(script);
  try {
    const result = await httpRequest(`${server.origin}${path}`, { requestId: 'test-1', ...options }).catch((error: unknown) => {
      if (error instanceof HttpError) return error;
      throw error;
    });
    return { result, requests: server.requests };
  } finally {
    await server.close();
  }
}

/** The error a request fails with; fails the test if it succeeds. */
async function failureOf(url: string, options: Partial<HttpRequestOptions> = {}): Promise<HttpError> {
  const outcome = await httpRequest(url, { requestId: 'test-1', ...options }).then(
    (response) => new Error(`expected a failure, got status ${response.status}`),
    (error: unknown) => error,
  );
  if (!(outcome instanceof HttpError)) throw outcome;
  return outcome;
}

const GOOD = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok';

describe('httpRequest', () => {
  let hole: Blackhole;
  beforeAll(async () => {
    hole = await blackhole();
  });
  afterAll(() => hole.close());

  // #region request-id-test
  it('sends GET with X-Request-Id, Host and Connection: close, and returns the parsed response', async () => {
    const { result, requests } = await against(replyAndClose(GOOD), { requestId: 'trace-7f3a' }, '/healthz?verbose=1');
    if (result instanceof HttpError) throw result;
    expect([result.status, text(result.body), result.requestId]).toEqual([200, 'ok', 'trace-7f3a']);
    expect(requests[0]).toMatch(/^GET \/healthz\?verbose=1 HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n/);
    expect(requests[0]).toContain('\r\nX-Request-Id: trace-7f3a\r\n');
    expect(requests[0]).toContain('\r\nConnection: close\r\n');
  });
  // #endregion request-id-test

  it('sends a POST body with its Content-Length', async () => {
    let received = '';
    const { result } = await against(
      (socket, head) => {
        const length = Number(/Content-Length: (\d+)/.exec(head)?.[1]);
        received = head.slice(head.indexOf('\r\n\r\n') + 4);
        const finish = (): void => void socket.end(GOOD);
        if (received.length >= length) finish();
        else socket.on('data', (chunk: Buffer) => ((received += chunk.toString('latin1')).length >= length ? finish() : undefined));
      },
      { method: 'POST', body: '{"doc":"permit-42"}' },
    );
    expect(result).toMatchObject({ status: 200 });
    expect(received).toBe('{"doc":"permit-42"}');
  });

  it('reads a chunked response that arrives in many small writes', async () => {
    const parts = ['HTTP/1.1 200 OK\r\nTransfer-', 'Encoding: chunked\r\n\r\n3;x=1\r\nabc', '\r\n', '2\r\nde\r\n0\r\nTrailer-A: 1\r\n', '\r\n'];
    const { result } = await against(trickle(parts, 5));
    if (result instanceof HttpError) throw result;
    expect([text(result.body), result.trailers]).toEqual(['abcde', [['Trailer-A', '1']]]);
  });

  it('reads a body framed by the close of the connection', async () => {
    const { result } = await against(replyAndClose('HTTP/1.0 200 OK\r\n\r\nall of it'));
    expect(result).toMatchObject({ framing: 'close', status: 200 });
  });

  // #region failure-matrix
  describe('failure matrix: each failure has one code and a transient/permanent verdict', () => {
    it('connection refused on a closed loopback port: E_HTTP_CONNECT_REFUSED, transient, definite', async () => {
      const error = await failureOf(`http://127.0.0.1:${await closedPort()}/`);
      expect(error).toMatchObject({ code: 'E_HTTP_CONNECT_REFUSED', transient: true, definite: true });
    });

    it('an address that can never be a TCP peer: E_HTTP_BAD_ADDRESS, permanent, refused before connecting', async () => {
      const error = await failureOf('http://224.0.0.1:8080/');
      expect(error).toMatchObject({ code: 'E_HTTP_BAD_ADDRESS', transient: false, definite: true });
    });

    it('a URL that is not http: E_HTTP_BAD_URL, permanent', async () => {
      expect(await failureOf('http://256.1.1.1/')).toMatchObject({ code: 'E_HTTP_BAD_URL', transient: false });
    });

    it('[4.3] a server that never accepts: E_HTTP_CONNECT_TIMEOUT, transient, definite', async () => {
      const error = await failureOf(`${hole.origin}/`, { timeouts: { connectMs: 150, readMs: 50, totalMs: 10_000 } });
      expect(error).toMatchObject({ code: 'E_HTTP_CONNECT_TIMEOUT', transient: true, definite: true });
    });

    it('[4.3] a server that accepts and stays silent: E_HTTP_READ_TIMEOUT, transient, indefinite', async () => {
      const { result } = await against(() => {}, { timeouts: { readMs: 150 } });
      expect(result).toMatchObject({ code: 'E_HTTP_READ_TIMEOUT', transient: true, definite: false });
    });

    it('[4.3] a server that goes silent in the middle of the body: E_HTTP_READ_TIMEOUT', async () => {
      const { result } = await against((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf'), {
        timeouts: { readMs: 150 },
      });
      expect(result).toMatchObject({ code: 'E_HTTP_READ_TIMEOUT' });
    });

    it('[4.3] the read timeout is idle time: a slow but steady server finishes although the whole reply outlasts it', async () => {
      const parts = ['HTTP/1.1 200 OK\r\n', 'Content-Length: 12\r\n', '\r\n', ...'twelve bytes'];
      const { result } = await against(trickle(parts, 30), { timeouts: { readMs: 300, totalMs: 20_000 } });
      if (result instanceof HttpError) throw result;
      expect(result.status).toBe(200);
      // Fourteen 30 ms gaps: the whole reply outlasts readMs, no single silence does.
      expect(result.timings.totalMs).toBeGreaterThan(300);
    });

    it('[4.3] a slow but steady server that outlasts the total timeout: E_HTTP_TOTAL_TIMEOUT, transient', async () => {
      const parts = ['HTTP/1.1 200 OK\r\n', 'Content-Length: 50\r\n', '\r\n', ...'x'.repeat(50)];
      const { result } = await against(trickle(parts, 30), { timeouts: { readMs: 5_000, totalMs: 250 } });
      expect(result).toMatchObject({ code: 'E_HTTP_TOTAL_TIMEOUT', transient: true, definite: false });
    });

    it('a server that closes in the middle of the body: E_HTTP_TRUNCATED, transient, indefinite', async () => {
      const { result } = await against(replyAndClose('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b'));
      expect(result).toMatchObject({ code: 'E_HTTP_TRUNCATED', transient: true, definite: false });
      expect((result as HttpError).message).toContain('after 10 of 100 body bytes');
    });

    it('a server that closes without answering: E_HTTP_TRUNCATED', async () => {
      const { result } = await against((socket) => socket.end());
      expect(result).toMatchObject({ code: 'E_HTTP_TRUNCATED' });
    });

    it('a server that resets the connection before answering: E_HTTP_CONNECTION_RESET, transient', async () => {
      const { result } = await against((socket) => socket.resetAndDestroy());
      expect(result).toMatchObject({ code: 'E_HTTP_CONNECTION_RESET', transient: true, definite: false });
    });

    it('[4.1] a malformed header: E_HTTP_BAD_HEADER, permanent, with the request id in the message', async () => {
      const { result } = await against(replyAndClose('HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok'), { requestId: 'trace-bad-1' });
      expect(result).toMatchObject({ code: 'E_HTTP_BAD_HEADER', transient: false, definite: false });
      expect((result as HttpError).message).toMatch(/^Cannot complete GET http:\/\/127\.0\.0\.1:\d+\/ \(request id trace-bad-1\): header line 1 has whitespace before the colon$/);
    });

    it('[4.1] a header that never ends: E_HTTP_HEADER_TOO_LARGE once the limit is passed, not a hang', async () => {
      const { result } = await against((socket) => {
        socket.write('HTTP/1.1 200 OK\r\nX-Flood: ');
        const flood = setInterval(() => (socket.destroyed ? clearInterval(flood) : socket.write('a'.repeat(4096))), 1);
      });
      expect(result).toMatchObject({ code: 'E_HTTP_HEADER_TOO_LARGE', transient: false });
    });

    it('a response with both Content-Length and Transfer-Encoding: E_HTTP_CONFLICTING_LENGTH, permanent', async () => {
      const { result } = await against(replyAndClose('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'));
      expect(result).toMatchObject({ code: 'E_HTTP_CONFLICTING_LENGTH', transient: false });
    });

    it('a body over the limit: E_HTTP_BODY_TOO_LARGE', async () => {
      const { result } = await against(replyAndClose(`HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n${'x'.repeat(64)}`), { limits: { maxBodyBytes: 63 } });
      expect(result).toMatchObject({ code: 'E_HTTP_BODY_TOO_LARGE' });
    });

    it('a request id that would inject a header: E_HTTP_BAD_REQUEST before any connection', async () => {
      const server = await serve(replyAndClose(GOOD));
      const error = await failureOf(`${server.origin}/`, { requestId: 'x\r\nX-Admin: yes' });
      await server.close();
      expect(error).toMatchObject({ code: 'E_HTTP_BAD_REQUEST', transient: false });
      expect(server.connections()).toBe(0);
    });
  });
  // #endregion failure-matrix

  // #region independent-timeouts
  it('[4.3] a short read timeout cannot fire while connecting, and a short connect timeout cannot fire once connected', async () => {
    // Connecting hangs: readMs is far shorter than connectMs, yet the connect timeout is what fires.
    const connecting = await failureOf(`${hole.origin}/`, { timeouts: { connectMs: 300, readMs: 20, totalMs: 10_000 } });
    expect(connecting.code).toBe('E_HTTP_CONNECT_TIMEOUT');
    // Connected at once, then silence: connectMs is far shorter than the silence, yet the read timeout is what fires.
    const { result } = await against(() => {}, { timeouts: { connectMs: 200, readMs: 800, totalMs: 10_000 } });
    expect((result as HttpError).code).toBe('E_HTTP_READ_TIMEOUT');
  });
  // #endregion independent-timeouts
});
