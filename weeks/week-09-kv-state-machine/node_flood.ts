/**
 * Test support for bounded memory: a client that floods a server process with pipelined
 * requests and never reads an answer, while the server's resident memory is sampled
 * from `/proc/<pid>/status`. A server that keeps reading and holds every request grows
 * with the flood; one that pauses reading stops the flood in the kernel's buffers.
 * @module
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

/**
 * The resident set size of a process in KiB, from the `VmRSS` line of `/proc/<pid>/status`.
 * @throws Error when the process is gone or the line is missing (not Linux)
 */
export function readRssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no VmRSS line for process ${pid}`);
  return Number(match[1]);
}

/** Options of {@link floodUnread}. */
export interface FloodOptions {
  /** The server's port on 127.0.0.1. */
  readonly port: number;
  /** The server's process id, whose memory is sampled. */
  readonly pid: number;
  /** Makes the `i`th request, framed and ready to write. */
  readonly request: (i: number) => Uint8Array | Promise<Uint8Array>;
  /** Stop after writing this many bytes. */
  readonly totalBytes: number;
  /** The flood ends early once a write waits this long for 'drain' (the server stopped reading). Default 3000 ms. */
  readonly stallMs?: number;
  /** How long to keep sampling after the flood ends, while the server works through what it read. Default 2000 ms. */
  readonly settleMs?: number;
}

/** What a flood did and what the server's memory did meanwhile. */
export interface FloodResult {
  /** The bytes the client managed to write (some may sit in kernel buffers). */
  readonly sentBytes: number;
  /** The requests written. */
  readonly sentRequests: number;
  /** The flood ended because the server stopped reading, not because `totalBytes` was sent. */
  readonly stalled: boolean;
  /** The server's RSS before the flood, KiB. */
  readonly baselineKiB: number;
  /** The largest RSS sampled during the flood and the settle period, KiB. */
  readonly peakKiB: number;
  /** The flooding socket, still open and unread; destroy it when done. */
  readonly socket: Socket;
}

/**
 * Floods a server with requests over one connection that never reads, sampling the
 * server's RSS every 50 ms, and leaves the connection open.
 */
export async function floodUnread(options: FloodOptions): Promise<FloodResult> {
  const baselineKiB = readRssKiB(options.pid);
  let peakKiB = baselineKiB;
  const sample = () => {
    try { peakKiB = Math.max(peakKiB, readRssKiB(options.pid)); } catch { /* exited: the test will see it */ }
  };
  const sampler = setInterval(sample, 50);
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ port: options.port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
  socket.on('error', () => {});
  socket.pause(); // never read an answer
  let sentBytes = 0;
  let sentRequests = 0;
  let stalled = false;
  try {
    while (sentBytes < options.totalBytes && !socket.destroyed) {
      const bytes = await options.request(sentRequests);
      sentBytes += bytes.length;
      sentRequests += 1;
      if (socket.write(bytes)) continue;
      const drained = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => { socket.off('drain', onDrain); resolve(false); }, options.stallMs ?? 3000);
        const onDrain = () => { clearTimeout(timer); resolve(true); };
        socket.once('drain', onDrain);
      });
      if (!drained) {
        stalled = true;
        break;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, options.settleMs ?? 2000));
    sample();
  } finally {
    clearInterval(sampler);
  }
  return { sentBytes, sentRequests, stalled, baselineKiB, peakKiB, socket };
}
