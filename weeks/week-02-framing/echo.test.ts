/**
 * The echo server and client in one process, over real loopback sockets: pipelining,
 * keep-alives, malformed messages, oversize headers, a slow reader, and the client's
 * error mapping. The gate covers the same ground with real processes.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { counterIds } from '../../lib/clock.ts';
import { encodeFrame } from './frame.ts';
import { frameMessage, parseMessage } from './message.ts';
import { EchoClient, EchoConnection, sendEcho } from './node_echo_client.ts';
import { EchoServer } from './node_echo_server.ts';
import { RawPeer } from './node_test_support.ts';
import { createLogger, memorySink } from './structured_log.ts';

const text = (s: string) => new TextEncoder().encode(s);
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});

async function startServer(options: { maxFrameBytes?: number; timeouts?: { idleMs: number; readMs: number } } = {}) {
  const memory = memorySink();
  const logger = createLogger({ clock: { now: () => Date.now() }, ids: counterIds('s'), sink: memory.sink, fields: { node_id: 'test-server' } });
  const server = await EchoServer.listen({ port: 0, logger, ...options });
  open.push({ close: () => server.close({ reason: 'test', graceMs: 100 }) });
  return { server, port: server.address.port, records: memory.records };
}

/** A throwaway TCP server with a custom connection handler. */
async function fakeServer(onConnection: (socket: Socket) => void): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  });
  return { port: (server.address() as { port: number }).port, server };
}

describe('EchoServer with EchoConnection', () => {
  it('answers pipelined requests on one connection, each matched by its request id', async () => {
    const { port, records } = await startServer();
    const connection = await EchoConnection.open({ host: '127.0.0.1', port });
    open.push(connection);
    const bodies = Array.from({ length: 50 }, (_, i) => text(`message ${i}`));
    const replies = await Promise.all(bodies.map((body, i) => connection.request(`p-${i}`, body, { timeoutMs: 5000 })));
    expect(replies).toEqual(bodies);
    expect(records.filter((r) => r.msg === 'echo').map((r) => r.request_id)).toEqual(bodies.map((_, i) => `p-${i}`));
  });

  it('treats an empty frame as a keep-alive: no reply, connection kept', async () => {
    const { port } = await startServer();
    const peer = await RawPeer.open(port);
    open.push({ close: () => peer.destroy() });
    await peer.write(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0]));
    await peer.write(frameMessage({ type: 'echo', requestId: 'after-keepalive', body: text('x') }));
    expect(parseMessage(await peer.readFrame())).toMatchObject({ type: 'echo_reply', requestId: 'after-keepalive' });
  });

  it('answers a malformed message with an error reply and keeps serving the connection', async () => {
    const { port, records } = await startServer();
    const peer = await RawPeer.open(port);
    open.push({ close: () => peer.destroy() });
    await peer.write(encodeFrame(text('not a message')));
    const error = parseMessage(await peer.readFrame());
    expect([error.type, error.errorCode]).toEqual(['error', 'E_MESSAGE_MALFORMED']);
    await peer.write(frameMessage({ type: 'echo', requestId: 'ok-1', body: text('fine') }));
    expect(parseMessage(await peer.readFrame())).toMatchObject({ type: 'echo_reply', requestId: 'ok-1' });
    expect(records.find((r) => r.fields?.error_code === 'E_MESSAGE_MALFORMED')).toMatchObject({ level: 'warn', msg: 'echo' });
  });

  it('refuses an oversize header with an E_FRAME_OVERSIZE error reply, closes that connection, serves others', async () => {
    const { port, records } = await startServer({ maxFrameBytes: 1024 });
    const peer = await RawPeer.open(port);
    await peer.write(new Uint8Array([0, 0, 0x04, 0x01])); // 1025
    expect(parseMessage(await peer.readFrame())).toMatchObject({ type: 'error', errorCode: 'E_FRAME_OVERSIZE' });
    await peer.closed;
    expect(records.find((r) => r.msg === 'connection closed')?.fields).toMatchObject({ reason: 'oversize_frame', error_code: 'E_FRAME_OVERSIZE' });
    expect((await sendEcho(text('still here'), { host: '127.0.0.1', port, idempotent: true })).body).toEqual(text('still here'));
  });

  it('answers with an error when the echo of a request near the maximum would not fit', async () => {
    const { port } = await startServer({ maxFrameBytes: 100 });
    const request = frameMessage({ type: 'echo', requestId: 'big', body: new Uint8Array(55) }, 100); // 100 bytes exactly
    const peer = await RawPeer.open(port);
    open.push({ close: () => peer.destroy() });
    await peer.write(request);
    expect(parseMessage(await peer.readFrame())).toMatchObject({ type: 'error', requestId: 'big', errorCode: 'E_FRAME_OVERSIZE' });
  });

  it('serves a reader that does not read for a while: every reply arrives, in order', async () => {
    const { port } = await startServer();
    const peer = await RawPeer.open(port);
    open.push({ close: () => peer.destroy() });
    const body = new Uint8Array(16 * 1024).fill(0x62);
    const count = 400; // 6.4 MB of replies: far more than the kernel buffers hold
    const requests = Array.from({ length: count }, (_, i) => frameMessage({ type: 'echo', requestId: `slow-${i}`, body }));
    await Promise.all(requests.map((frame) => peer.write(frame)));
    for (let i = 0; i < count; i += 1) expect(parseMessage(await peer.readFrame()).requestId).toBe(`slow-${i}`);
  });
});

describe('EchoClient', () => {
  it('maps a refused connection to E_NET_REFUSED, definite, and retries it', async () => {
    const { port, server } = await fakeServer(() => {});
    await new Promise((resolve) => server.close(resolve));
    const memory = memorySink();
    const logger = createLogger({ clock: { now: () => 0 }, ids: counterIds('c'), sink: memory.sink });
    const error = await sendEcho(text('x'), {
      host: '127.0.0.1', port, idempotent: false, logger, sleep: async () => {},
      retry: { maxAttempts: 3, maxTotalMs: 10_000, baseDelayMs: 1, maxDelayMs: 1 },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_NET_REFUSED', definite: true });
    expect(memory.records.map((r) => r.fields?.result)).toEqual(['retry', 'retry', 'error']);
  });

  it('rebuilds an error reply as an error with the server\'s code', async () => {
    const { port } = await fakeServer((socket) => socket.once('data', () => {
      socket.end(frameMessage({ type: 'error', requestId: 'q1', errorCode: 'E_MESSAGE_MALFORMED', body: text('no') }));
    }));
    const error = await sendEcho(text('x'), { host: '127.0.0.1', port, idempotent: true, requestId: 'q1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_MESSAGE_MALFORMED' });
  });

  it('refuses a reply with another request id or other bytes with E_ECHO_MISMATCH, never retried', async () => {
    let connections = 0;
    const { port } = await fakeServer((socket) => {
      connections += 1;
      socket.once('data', () => socket.write(frameMessage({ type: 'echo_reply', requestId: 'q1', body: text('tampered') })));
    });
    const error = await sendEcho(text('original'), { host: '127.0.0.1', port, idempotent: true, requestId: 'q1' }).catch((e: unknown) => e);
    expect([(error as { code: string }).code, connections]).toEqual(['E_ECHO_MISMATCH', 1]);
  });

  it('reports a reply cut off mid-frame as E_FRAME_TRUNCATED', async () => {
    const { port } = await fakeServer((socket) => socket.once('data', () => socket.end(new Uint8Array([0, 0, 0, 50, 1, 2]))));
    const error = await sendEcho(text('x'), { host: '127.0.0.1', port, idempotent: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_FRAME_TRUNCATED' });
  });

  it('gives up on a silent server with E_NET_TIMEOUT', async () => {
    const { port } = await fakeServer((socket) => socket.resume()); // reads, never answers
    const error = await sendEcho(text('x'), { host: '127.0.0.1', port, idempotent: false, replyTimeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'E_NET_TIMEOUT', definite: false });
  });

  it('reconnects after the server closed its idle connection', async () => {
    const { port, records } = await startServer({ timeouts: { idleMs: 100, readMs: 100 } });
    const client = new EchoClient({ host: '127.0.0.1', port, ids: counterIds('r') });
    open.push(client);
    expect((await client.send(text('one'), { idempotent: true })).requestId).toBe('r-000001');
    await new Promise((resolve) => setTimeout(resolve, 300)); // the server closes the idle connection
    expect(records.find((r) => r.msg === 'connection closed')?.fields?.reason).toBe('idle_timeout');
    expect((await client.send(text('two'), { idempotent: true })).body).toEqual(text('two'));
  });

  it('refuses a malformed request id before sending anything', async () => {
    const client = new EchoClient({ host: '127.0.0.1', port: 1 });
    await expect(client.send(text('x'), { idempotent: true, requestId: 'has space' })).rejects.toThrow(TypeError);
  });
});
