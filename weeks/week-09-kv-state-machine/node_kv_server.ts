/**
 * The KV server: TCP, week 2's frames, one answer per request in request order per
 * connection, {@link handleKvFrame} for the rest. Week 3's FrameServer is not used: its
 * handler contract is synchronous on purpose, and a store's `apply` is a promise (week
 * 10's resolves after fsync).
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { encodeFrame, FrameDecoder, type Logger } from '../../lib/framing.ts';
import { canonicalBytes } from '../../lib/hashing.ts';
import type { EnvelopeVerifier } from '../../lib/signing.ts';
import { PipelineBackpressure, DEFAULT_PIPELINE_LIMITS, type PipelineLimits } from './node_backpressure.ts';
import { handleKvFrame, MAX_KV_FRAME_BYTES, type KvReply } from './protocol.ts';
import type { KvStore } from './store.ts';

/** Options of {@link KvServer.start}. */
export interface KvServerOptions {
  /** Where commands are applied and keys read. */
  readonly store: KvStore;
  /** Verifies signed commands (its key ring decides who may write). */
  readonly verifier: EnvelopeVerifier;
  /** The address to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** The port; 0 lets the kernel choose. Default 0. */
  readonly port?: number;
  /** Where one record per answer goes. */
  readonly logger?: Logger;
  /** Per connection: pause reading past this many unanswered requests or queued reply bytes. Default {@link DEFAULT_PIPELINE_LIMITS}. */
  readonly limits?: PipelineLimits;
}

/** Options of {@link KvServer.close}. */
export interface KvCloseOptions {
  /** How long answers already being worked on may take before their connections are cut. Default 5000 ms. */
  readonly graceMs?: number;
}

/** A running KV server. */
export class KvServer {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #options: KvServerOptions;
  // Per connection, the tail of its answer chain: what a drain waits for.
  readonly #inFlight = new Map<Socket, Promise<void>>();
  #closing = false;

  /** Use {@link KvServer.start}. */
  constructor(server: Server, options: KvServerOptions) {
    this.#server = server;
    this.#options = options;
  }

  /** Binds and starts serving. */
  static async start(options: KvServerOptions): Promise<KvServer> {
    const server = createServer();
    const kv = new KvServer(server, options);
    server.on('connection', (socket) => kv.#serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
    });
    return kv;
  }

  /** The bound port. */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      this.#inFlight.delete(socket);
    });
    socket.on('error', () => socket.destroy());
    const decoder = new FrameDecoder({ maxFrameBytes: MAX_KV_FRAME_BYTES });
    // Reading pauses while too many requests wait or too many reply bytes are queued:
    // a client that sends and never reads is held back by TCP, not by our memory.
    const backpressure = new PipelineBackpressure(socket, this.#options.limits ?? DEFAULT_PIPELINE_LIMITS);
    let chain: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Uint8Array) => {
      let frames: Uint8Array[];
      try {
        frames = decoder.push(chunk);
      } catch {
        socket.destroy(); // an oversize header: nothing after it can be framed
        return;
      }
      for (const frame of frames) {
        if (frame.length === 0) continue; // keep-alive
        if (this.#closing) break; // draining: nothing new starts, what started finishes
        // Answers leave in request order; writes still meet in the store's one queue.
        backpressure.accepted();
        chain = chain.then(async () => {
          try {
            const reply = await handleKvFrame(frame, this.#options);
            this.#log(reply);
            if (!socket.destroyed) socket.write(encodeFrame(canonicalBytes(reply), MAX_KV_FRAME_BYTES));
          } finally {
            backpressure.answered();
          }
        });
        this.#inFlight.set(socket, chain);
      }
    });
  }

  #log(reply: KvReply): void {
    const logger = this.#options.logger;
    if (logger === undefined) return;
    const op = 'op' in reply ? reply.op : 'refused';
    const fields = reply.ok ? { op, result: 'ok', version: reply.version } : { op, result: 'refused', error_code: reply.code };
    const requestId = 'request_id' in reply ? reply.request_id : null;
    logger.info('kv answer', { ...(requestId ? { requestId } : {}), fields });
  }

  // #region drain
  /**
   * Drains and stops: no new connections or requests are taken, the answers already
   * started are finished and sent (for up to `graceMs`), then every connection is
   * closed. After it resolves no write can reach the store, so a snapshot taken then
   * holds every write that was answered.
   * @returns how many connections still had work when the grace period ran out
   */
  async close(options: KvCloseOptions = {}): Promise<number> {
    this.#closing = true;
    const listenerClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const pending = [...this.#inFlight.values()];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<'expired'>((resolve) => { timer = setTimeout(() => resolve('expired'), options.graceMs ?? 5000); });
    const outcome = await Promise.race([Promise.allSettled(pending).then(() => 'drained' as const), expired]);
    clearTimeout(timer);
    const cut = outcome === 'expired' ? this.#inFlight.size : 0;
    // end() sends what is buffered, then FIN; a peer that never closes its side is cut after a second.
    const sockets = [...this.#sockets];
    const closed = sockets.map((socket) => new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      socket.end();
    }));
    let cutTimer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((resolve) => { cutTimer = setTimeout(resolve, 1000); })]);
    clearTimeout(cutTimer);
    for (const socket of this.#sockets) socket.destroy();
    await listenerClosed;
    return cut;
  }
  // #endregion drain
}

/** Sends one request frame payload over a fresh connection and resolves with the answer. */
export async function sendKvFrame(port: number, payload: Uint8Array, host = '127.0.0.1'): Promise<KvReply> {
  const { connect } = await import('node:net');
  return new Promise<KvReply>((resolve, reject) => {
    const socket = connect({ port, host });
    const decoder = new FrameDecoder({ maxFrameBytes: MAX_KV_FRAME_BYTES });
    socket.on('connect', () => socket.write(encodeFrame(payload, MAX_KV_FRAME_BYTES)));
    socket.on('data', (chunk: Uint8Array) => {
      const [frame] = decoder.push(chunk);
      if (frame === undefined) return;
      socket.end();
      resolve(JSON.parse(new TextDecoder().decode(frame)) as KvReply);
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('connection closed before an answer')));
  });
}
