/**
 * The node-to-node transport (Node adapter): Raft messages over TCP, each in a week 2
 * frame, each a week 8 signed envelope (`msg_type` `raft`) verified against the cluster's
 * node keys before the core ever sees it.
 *
 * ```text
 *  n1 ── outbound link to n2 (dialed by n1, n1's messages only) ──▶ n2's peer port
 *  n1 ◀── outbound link to n1 (dialed by n2) ───────────────────── n2
 *
 *  send(m) ─▶ per-peer queue (bounded: full → drop the oldest heartbeat, else the oldest)
 *          ─▶ sign + frame when the socket can take it ─▶ socket
 *  socket ─▶ FrameDecoder ─▶ verify envelope (key known, signature, window, nonce unseen)
 *          ─▶ decode strictly ─▶ key's name = message.from, message.to = us ─▶ onMessage
 * ```
 *
 * Every ordered pair of nodes has one connection, dialed by the sender: a node's outbound
 * traffic to a peer never waits for that peer's outbound link, and the fault proxy can cut
 * each direction where it enters a node. Sends are fire-and-forget: Raft retries by itself
 * (heartbeats, re-sent appends, new elections), so a message lost in a broken connection
 * or dropped from a full queue costs a round trip, never safety. A dropped connection is
 * redialed with week 2's full-jitter backoff.
 * @module
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../lib/clock.ts';
import { isCivicError } from '../../lib/errors.ts';
import { backoffDelay, encodeFrame, FrameDecoder, systemRandom, type Logger, type RandomSource } from '../../lib/framing.ts';
import { EnvelopeVerifier, encodeSignedMessage, NonceCache, parseKeyId, signEnvelopeSync, type KeyRing, type SyncSigner } from '../../lib/signing.ts';
import type { AppendRequest, Message, NodeId } from './raft_types.ts';
import { decodeRaftMessage, encodeRaftMessage, RAFT_MSG_TYPE } from './replica_protocol.ts';

/** The largest peer frame: a snapshot of the KV state must fit. */
export const MAX_PEER_FRAME_BYTES = 64 * 1024 * 1024;
/** Messages queued per peer at most. */
export const DEFAULT_PEER_QUEUE = 4096;
/**
 * Peer replay window: peers share a host clock or NTP, and a message older than 10 s is
 * stale for Raft anyway. The cache holds about 40 k messages/s over that window.
 */
const PEER_REPLAY_POLICY = { maxAgeMs: 10_000, maxFutureSkewMs: 2_000, maxEntries: 500_000 };
/** Reconnect backoff: the first retry within 50 ms, never more than 1 s apart. */
const RECONNECT_BACKOFF = { baseDelayMs: 50, maxDelayMs: 1000 };

/** A host and port. */
export interface PeerAddress {
  /** Host name or IP. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
}

/** Options of {@link PeerTransport.start}. */
export interface PeerTransportOptions {
  /** This node. */
  readonly id: NodeId;
  /** Where to listen for peers (port 0: the kernel picks). */
  readonly listen: PeerAddress;
  /** Where to dial each peer (its peer port, or a fault proxy in front of it). */
  readonly peers: ReadonlyMap<NodeId, PeerAddress>;
  /** This node's signing key; its key id's name must be `id`. */
  readonly signer: SyncSigner;
  /** The cluster's node public keys (a synchronous backend): the only keys a peer message may carry. */
  readonly nodeKeys: KeyRing;
  /** Called with every message that verified, in arrival order per connection. */
  readonly onMessage: (message: Message) => void;
  /** Clock for envelope timestamps and the replay window. Default the system clock. */
  readonly clock?: Clock;
  /** Jitter for reconnect backoff. Default `crypto.getRandomValues`. */
  readonly random?: RandomSource;
  /** Per-peer queue bound. Default {@link DEFAULT_PEER_QUEUE}. */
  readonly maxQueue?: number;
  /** Connection events go here (debug and warn). */
  readonly logger?: Logger;
}

/** Counters since start. */
export interface PeerTransportStats {
  /** Messages written to a socket. */
  readonly sent: number;
  /** Messages dropped from a full queue. */
  readonly queueDropped: number;
  /** Messages that verified and were handed to `onMessage`. */
  readonly received: number;
  /** Messages refused, by code (`E_SIG_INVALID`, `E_REPLAY`, `E_KEY_UNKNOWN`, `E_RAFT_PEER_UNTRUSTED`, …). */
  readonly rejected: Readonly<Record<string, number>>;
  /** Outbound connections established (first dials and redials). */
  readonly connects: number;
}

function isHeartbeat(message: Message): boolean {
  return message.type === 'append' && (message as AppendRequest).entries.length === 0;
}

/** One outbound link: a queue and the connection that drains it. */
class PeerLink {
  readonly #transport: PeerTransport;
  readonly #to: NodeId;
  readonly #address: PeerAddress;
  readonly #queue: Message[] = [];
  #socket: Socket | null = null;
  #ready = false;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(transport: PeerTransport, to: NodeId, address: PeerAddress) {
    this.#transport = transport;
    this.#to = to;
    this.#address = address;
  }

  // #region peer-queue
  /** Queues a message; when full, drops the oldest heartbeat (or else the oldest message). */
  enqueue(message: Message, max: number): boolean {
    let dropped = false;
    if (this.#queue.length >= max) {
      const beat = this.#queue.findIndex(isHeartbeat);
      this.#queue.splice(beat >= 0 ? beat : 0, 1);
      dropped = true;
    }
    this.#queue.push(message);
    this.#flush();
    return dropped;
  }
  // #endregion peer-queue

  dial(): void {
    if (this.#closed || this.#socket !== null) return;
    const socket = connect({ host: this.#address.host, port: this.#address.port });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.#attempt = 0;
      this.#ready = true;
      this.#transport.countConnect(this.#to);
      this.#flush();
    });
    socket.on('drain', () => this.#flush());
    socket.on('data', () => {}); // peers never answer on this link; read to keep the buffer empty
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => {
      this.#socket = null;
      this.#ready = false;
      this.#redial();
    });
  }

  #redial(): void {
    if (this.#closed) return;
    this.#attempt += 1;
    const wait = backoffDelay(Math.min(this.#attempt, 16), RECONNECT_BACKOFF, this.#transport.random);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.dial();
    }, wait);
  }

  /** Signs and writes queued messages while the socket takes them (backpressure: stop at `write() === false`). */
  #flush(): void {
    const socket = this.#socket;
    if (socket === null || !this.#ready) return;
    while (this.#queue.length > 0) {
      const message = this.#queue.shift() as Message;
      const more = socket.write(this.#transport.seal(message));
      if (!more) return; // 'drain' resumes
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#socket?.destroy();
    this.#queue.length = 0;
  }
}

/**
 * The signed peer transport of one node.
 *
 * @example
 * const transport = await PeerTransport.start({ id: 'n1', listen, peers, signer, nodeKeys, onMessage: (m) => node.step(m) });
 * for (const m of ready.messages) transport.send(m);
 */
export class PeerTransport {
  readonly #options: PeerTransportOptions;
  readonly #server: Server;
  readonly #links = new Map<NodeId, PeerLink>();
  readonly #inbound = new Set<Socket>();
  readonly #verifier: EnvelopeVerifier;
  readonly #clock: Clock;
  readonly #maxQueue: number;
  readonly #rejected: Record<string, number> = {};
  #seq = 0;
  #sent = 0;
  #queueDropped = 0;
  #received = 0;
  #connects = 0;

  private constructor(options: PeerTransportOptions, server: Server) {
    this.#options = options;
    this.#server = server;
    this.#clock = options.clock ?? systemClock;
    this.#maxQueue = options.maxQueue ?? DEFAULT_PEER_QUEUE;
    this.#verifier = new EnvelopeVerifier({
      keys: options.nodeKeys, replay: new NonceCache(PEER_REPLAY_POLICY), clock: this.#clock, maxMessageBytes: MAX_PEER_FRAME_BYTES,
    });
    if (parseKeyId(options.signer.keyId)?.name !== options.id) throw new RangeError(`signer key ${options.signer.keyId} is not a key of node ${options.id}`);
  }

  /** Listens on the peer port and dials every peer. */
  static async start(options: PeerTransportOptions): Promise<PeerTransport> {
    const server = createServer();
    const transport = new PeerTransport(options, server);
    server.on('connection', (socket) => transport.#serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listen.port, options.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    for (const [id, address] of options.peers) {
      if (id === options.id) continue;
      const link = new PeerLink(transport, id, address);
      transport.#links.set(id, link);
      link.dial();
    }
    return transport;
  }

  /** The bound peer port. */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Jitter source for the links' backoff. */
  get random(): RandomSource {
    return this.#options.random ?? systemRandom;
  }

  /** Counters since start. */
  get stats(): PeerTransportStats {
    return { sent: this.#sent, queueDropped: this.#queueDropped, received: this.#received, rejected: { ...this.#rejected }, connects: this.#connects };
  }

  /**
   * Queues `message` for its recipient; never blocks, never throws for a network problem.
   * @throws RangeError when `message.to` is not a peer (a caller bug)
   */
  send(message: Message): void {
    const link = this.#links.get(message.to);
    if (link === undefined) throw new RangeError(`Cannot send to ${message.to}: not a peer of ${this.#options.id}`);
    if (link.enqueue(message, this.#maxQueue)) this.#queueDropped += 1;
  }

  /** The framed, signed bytes of a message (called by a link when it can write). */
  seal(message: Message): Uint8Array {
    const payload = encodeRaftMessage(message);
    this.#seq += 1;
    const envelope = signEnvelopeSync({ msgType: RAFT_MSG_TYPE, requestId: `raft:${this.#options.id}:${this.#seq}`, payload }, this.#options.signer, { clock: this.#clock });
    this.#sent += 1;
    return encodeFrame(encodeSignedMessage(envelope, payload), MAX_PEER_FRAME_BYTES);
  }

  /** Counts a link's successful dial. */
  countConnect(to: NodeId): void {
    this.#connects += 1;
    this.#options.logger?.debug('peer connected', { fields: { peer: to } });
  }

  // #region peer-receive
  #serve(socket: Socket): void {
    this.#inbound.add(socket);
    socket.on('close', () => this.#inbound.delete(socket));
    socket.on('error', () => socket.destroy());
    const decoder = new FrameDecoder({ maxFrameBytes: MAX_PEER_FRAME_BYTES, copy: false });
    socket.on('data', (chunk: Uint8Array) => {
      let frames: Uint8Array[];
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        this.#reject(isCivicError(error) ? error.code : 'E_FRAME_MALFORMED');
        socket.destroy(); // no next frame boundary after a bad header
        return;
      }
      for (const frame of frames) {
        const message = this.#open(frame);
        if (message !== null) {
          this.#received += 1;
          this.#options.onMessage(message);
        }
      }
    });
  }

  /** Verifies and decodes one frame; a refused one is counted and dropped, never thrown. */
  #open(frame: Uint8Array): Message | null {
    let message: Message;
    let keyName: string | undefined;
    try {
      const { envelope, payload } = this.#verifier.verifySync(frame); // key known, signature, window, nonce
      if (envelope.msg_type !== RAFT_MSG_TYPE) return this.#reject('E_RAFT_MESSAGE_MALFORMED');
      message = decodeRaftMessage(payload);
      keyName = parseKeyId(envelope.key_id)?.name;
    } catch (error) {
      return this.#reject(isCivicError(error) ? error.code : 'E_RAFT_MESSAGE_MALFORMED');
    }
    // A node may speak only for itself, and only to us.
    if (keyName !== message.from || message.to !== this.#options.id) return this.#reject('E_RAFT_PEER_UNTRUSTED');
    return message;
  }
  // #endregion peer-receive

  #reject(code: string): null {
    this.#rejected[code] = (this.#rejected[code] ?? 0) + 1;
    return null;
  }

  /** Stops listening, cuts every connection and drops every queue. */
  async close(): Promise<void> {
    for (const link of this.#links.values()) link.close();
    for (const socket of this.#inbound) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
