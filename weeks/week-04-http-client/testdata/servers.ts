/**
 * Misbehaving loopback servers for the client tests: each listens on 127.0.0.1 port 0,
 * reads the request head, and then does one scripted thing wrong (or right).
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** What a scripted server does once it has read a request head. */
export type Script = (socket: net.Socket, request: string) => void;

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Every request head received, in order. */
  readonly requests: string[];
  /** How many connections were accepted. */
  readonly connections: () => number;
  /** Stops the server and destroys its open sockets. */
  close(): Promise<void>;
}

/** Starts a server that runs `script` on each connection once the request head arrived. */
export async function serve(script: Script): Promise<TestServer> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      requests.push(buffered);
      script(socket, buffered);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sends bytes given as a latin1 string, then closes the connection. */
export function replyAndClose(text: string): Script {
  return (socket) => socket.end(Buffer.from(text, 'latin1'));
}

/** Sends `parts` one by one, `gapMs` apart, then closes. */
export function trickle(parts: readonly string[], gapMs: number): Script {
  return (socket) => {
    let i = 0;
    const next = (): void => {
      if (socket.destroyed) return;
      if (i === parts.length) {
        socket.end();
        return;
      }
      socket.write(Buffer.from(parts[i++] as string, 'latin1'));
      setTimeout(next, gapMs);
    };
    next();
  };
}

/** A port on which nothing listens: bound, then closed again. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A listener whose accept queue is full, so new connections hang in SYN-SENT. */
export interface Blackhole {
  readonly origin: string;
  close(): void;
}

/**
 * Starts `blackhole_listener.mjs` in a child process and fills its accept queue: with a
 * backlog of 1 the queue holds two connections, so of sixteen fillers two are queued
 * and the SYNs of the rest (and of every later client) are dropped. No timing is
 * involved: the queue stays full because nothing ever accepts.
 */
export async function blackhole(): Promise<Blackhole> {
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(new URL('./blackhole_listener.mjs', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  const fillers: net.Socket[] = [];
  const connected: Promise<void>[] = [];
  for (let i = 0; i < 16; i += 1) {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    fillers.push(socket);
    connected.push(new Promise((resolve) => socket.once('connect', () => resolve())));
  }
  // At least one filler reaches the queue: the listener is up and the queue is filling.
  await Promise.race(connected);
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => {
      for (const socket of fillers) socket.destroy();
      child.kill('SIGKILL');
    },
  };
}
