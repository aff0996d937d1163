/**
 * A small TCP server that speaks the hash-bearing message: each frame is read with
 * {@link readHashedMessage}; a good request is echoed back as a version 2 reply, a
 * refused one is answered with a version 2 `error` message carrying the code, and
 * audited through the logger. Used by the gate to tamper with bytes on a real socket.
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder } from '../../lib/framing.ts';
import type { Logger } from '../../lib/framing.ts';
import { isCivicError } from '../../lib/errors.ts';
import { frameHashedMessage, readHashedMessage, type LegacyPolicy } from './hashed_message.ts';
import { nodeSha256 } from './node_hash.ts';

/** Options of {@link startHashedEchoServer}. */
export interface HashedEchoOptions {
  /** Where rejections are audited. */
  readonly logger: Logger;
  /** What to do with version 1 messages (default `refuse`). */
  readonly legacy?: LegacyPolicy;
}

/** A running server. */
export interface HashedEchoServer {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Answers each frame of one connection. */
function serve(socket: Socket, options: HashedEchoOptions): void {
  const decoder = new FrameDecoder();
  socket.on('data', (chunk: Uint8Array) => {
    let frames: Uint8Array[];
    try {
      frames = decoder.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const payload of frames) {
      try {
        const { message } = readHashedMessage(payload, { legacy: options.legacy, logger: options.logger, digest: nodeSha256 });
        socket.write(frameHashedMessage({ type: 'echo_reply', requestId: message.requestId, body: message.body }, { digest: nodeSha256 }));
      } catch (error) {
        const code = isCivicError(error) ? error.code : 'E_HASH_MALFORMED';
        const body = new TextEncoder().encode(error instanceof Error ? error.message : String(error));
        socket.write(frameHashedMessage({ type: 'error', requestId: 'unknown', body, errorCode: code }, { digest: nodeSha256 }));
      }
    }
  });
  socket.on('error', () => socket.destroy());
}

/** Starts the server on 127.0.0.1 and an ephemeral port. */
export async function startHashedEchoServer(options: HashedEchoOptions): Promise<HashedEchoServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
