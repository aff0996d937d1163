/**
 * One replica of the replicated KV store (Node adapter): the pure {@link RaftNode} driven by
 * a real tick timer, persisted through {@link RaftStorage}, talking to its peers through
 * the signed {@link PeerTransport}, applying committed entries to an injected
 * {@link ReplicatedApp} (week 9's KV state machine by default), and serving clients on a
 * TCP port with week 9's protocol unchanged.
 *
 * ```text
 *  client frame ─▶ handleKvFrame (verify, parse) ─▶ propose(canonical command) ─┐
 *  peer message ─▶ verify ─▶ node.step ─────────────────────────────────────────┤
 *  timer (tickMs) ─▶ node.tick ──────────────────────────────────────────────────┤
 *                                                                               ▼
 *                 Ready loop: persist (one WAL group) ─▶ send ─▶ apply ─▶ advance
 *                                                              │
 *                               reply to the proposer ◀────────┘ (entry index and term match)
 * ```
 *
 * Reads travel through the log too: a `get` is proposed like a write and answered from
 * the state at its index, so a deposed leader that has not noticed yet cannot answer a
 * stale read (its entry never commits).
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { systemClock, type Clock } from '../../lib/clock.ts';
import { isCivicError } from '../../lib/errors.ts';
import { encodeFrame, FrameDecoder, systemRandom, type Logger } from '../../lib/framing.ts';
import { canonicalBytes, parseStrictJson, sha256Hex } from '../../lib/hashing.ts';
import {
  DEFAULT_PIPELINE_LIMITS, handleKvFrame, isKvCommand, KvStateMachine, MAX_KV_FRAME_BYTES, parseKvRequest, PipelineBackpressure,
  type KvCommand, type PipelineLimits, type KvReadResult, type KvReply, type KvRequest, type KvResult, type KvStore,
} from '../../lib/kv.ts';
import type { EnvelopeVerifier, KeyRing, SyncSigner } from '../../lib/signing.ts';
import { RaftStorage } from './node_raft_storage.ts';
import { PeerTransport, type PeerAddress } from './node_peer_transport.ts';
import { RaftNode, committedBeforeSave } from './raft.ts';
import type { Entry, Message, NodeId, Ready, Snapshot, SoftState } from './raft_types.ts';
import {
  encodeReply, isStatusRequest, stampReply, type NotLeaderReply, type ReplicaRefusal, type ReplicaReply, type StatusReply,
} from './replica_protocol.ts';

// #region replicated-app
/** What the replica applies committed entries to. Deterministic: same entries, same state, same hash. */
export interface ReplicatedApp {
  /** Applies one committed entry (never a no-op) and returns the reply for its client. */
  apply(entry: Entry): unknown;
  /** The whole state as bytes, for a snapshot. */
  snapshot(): Uint8Array;
  /** Replaces the whole state with a snapshot's. */
  restore(snapshot: Snapshot): void;
  /** A digest of the state: equal on replicas that applied the same entries. */
  stateHash(): string;
  /**
   * The entry data the leader proposes for a client request (default: its canonical JSON).
   * The leader's clock reading goes in here, never on the apply path, so an application
   * that needs time (week 12's dedupe TTL) gets the same time on every replica.
   * @param request - a verified, parsed request (a read too: reads travel through the log)
   * @param nowMs - the leader's clock, in ms since the epoch
   */
  proposal?(request: KvRequest, nowMs: number): Uint8Array;
}
// #endregion replicated-app

/**
 * The default application: week 9's {@link KvStateMachine}. Entry data is the canonical
 * JSON of a KV request; a `get` is answered from the state at its index and changes
 * nothing; a write is applied at log position = entry index, in the entry's term.
 */
export class KvApp implements ReplicatedApp {
  #machine = new KvStateMachine();

  /** The state machine (read it, never apply to it directly). */
  get machine(): KvStateMachine {
    return this.#machine;
  }

  /** Applies a KV request entry; a body that is not one is answered `E_KV_COMMAND_INVALID` on every replica alike. */
  apply(entry: Entry): KvReply {
    let request;
    try {
      request = parseKvRequest(parseStrictJson(entry.data ?? new Uint8Array(0)));
    } catch (error) {
      return { ok: false, request_id: null, code: isCivicError(error) ? error.code : 'E_KV_COMMAND_INVALID', message: error instanceof Error ? error.message : String(error) };
    }
    if (!isKvCommand(request)) return this.#machine.read(request.key);
    return this.#machine.apply(request, { term: entry.term, lsn: entry.index });
  }

  /** Week 9's snapshot bytes. */
  snapshot(): Uint8Array {
    return this.#machine.snapshot();
  }

  /** Restores from week 9's snapshot bytes (every check of `KvStateMachine.restore`). */
  restore(snapshot: Snapshot): void {
    this.#machine = KvStateMachine.restore(snapshot.data);
  }

  /** SHA-256 hex of the canonical snapshot bytes (equal states give equal bytes). */
  stateHash(): string {
    return sha256Hex(this.#machine.snapshot());
  }
}

/** A leader's outgoing replication (appends and snapshots), which may leave before its own save. */
function isReplication(message: Message): boolean {
  return message.type === 'append' || message.type === 'snapshot';
}

/** Options of {@link Replica.start}. */
export interface ReplicaOptions {
  /** This node. */
  readonly id: NodeId;
  /** Every voter, this node included. */
  readonly voters: readonly NodeId[];
  /** This node's storage directory (WAL and snapshots). */
  readonly dataDir: string;
  /** Where to listen for peers. */
  readonly peerListen: PeerAddress;
  /** Where to dial each peer (its peer port, or a proxy). */
  readonly peers: ReadonlyMap<NodeId, PeerAddress>;
  /** Where to listen for clients. */
  readonly clientListen: PeerAddress;
  /** Each node's client address `host:port`, for the redirect hint. */
  readonly clientAddrs: ReadonlyMap<NodeId, string>;
  /** This node's signing key (key name = id). */
  readonly signer: SyncSigner;
  /** The cluster's node public keys. */
  readonly nodeKeys: KeyRing;
  /** Verifies signed client commands (its key ring decides who may write). */
  readonly clientVerifier: EnvelopeVerifier;
  /** Per client connection: pause reading past this many unanswered requests or queued reply bytes. Default week 9's {@link DEFAULT_PIPELINE_LIMITS}. */
  readonly clientLimits?: PipelineLimits;
  /** The application. Default a fresh {@link KvApp}. */
  readonly app?: ReplicatedApp;
  /** Milliseconds per tick. Default 10. */
  readonly tickMs?: number;
  /** Election timeout base, in ticks. Default 15 (150–300 ms at 10 ms ticks). */
  readonly electionTicks?: number;
  /** Heartbeat interval, in ticks. Default 3. */
  readonly heartbeatTicks?: number;
  /** Take a snapshot and compact every this many applied entries. Default 100,000, as etcd's snapshot count: a snapshot serializes the whole state on the event loop (1.2 s at 40,000 keys with week 12's table), so it must stay rare next to the writes it covers. */
  readonly snapshotEvery?: number;
  /** A proposal not applied within this many ms is answered `E_RAFT_UNCERTAIN`. Default 5000. */
  readonly commitTimeoutMs?: number;
  /** Role changes, storage damage and failures go here. */
  readonly logger?: Logger;
  /** Clock for envelope timestamps and the time the application's proposals carry. Default the system clock. */
  readonly clock?: Clock;
}

/** A proposal waiting for its entry to apply. */
interface Pending {
  readonly term: number;
  readonly requestId: string | null;
  readonly resolve: (reply: KvReply | NotLeaderReply | ReplicaRefusal) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** A get's stand-in answer from the store adapter: "read this through the log". */
const READ_THROUGH_LOG: KvReadResult = Object.freeze({
  ok: false, op: 'get', request_id: null, key: null, code: 'E_KV_NOT_FOUND', message: 'read through the log', version: 0,
});

/** A running replica. */
export class Replica {
  readonly #options: ReplicaOptions;
  readonly #node: RaftNode;
  readonly #storage: RaftStorage;
  readonly #app: ReplicatedApp;
  /** The state hash and the applied index it was computed at. */
  #hashed: { readonly index: number; readonly hash: string } | null = null;
  readonly #transport: PeerTransport;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #pending = new Map<number, Pending>();
  readonly #ticker: ReturnType<typeof setInterval>;
  #looping: Promise<void> | null = null;
  #scheduled = false;
  /** Why the Ready loop may no longer run (a storage failure, or close), or null while it may. */
  #stopped: unknown = null;
  #draining = false;
  #sinceSnapshot = 0;
  #lastApplied: { index: number; term: number };

  private constructor(parts: {
    options: ReplicaOptions; node: RaftNode; storage: RaftStorage; app: ReplicatedApp; transport: PeerTransport; server: Server; lastApplied: { index: number; term: number };
  }) {
    this.#options = parts.options;
    this.#node = parts.node;
    this.#storage = parts.storage;
    this.#app = parts.app;
    this.#transport = parts.transport;
    this.#server = parts.server;
    this.#lastApplied = parts.lastApplied;
    this.#ticker = setInterval(() => {
      this.#node.tick();
      this.#schedule();
    }, parts.options.tickMs ?? 10);
  }

  /**
   * Opens storage, restores the application from its snapshot, starts the peer transport
   * and the client port, and starts ticking.
   */
  static async start(options: ReplicaOptions): Promise<Replica> {
    const { storage, restore, damage } = await RaftStorage.open(options.dataDir);
    if (damage !== null) options.logger?.warn('storage tail quarantined', { fields: { error_code: damage.code, segment: damage.segment, bytes: damage.bytes } });
    const app = options.app ?? new KvApp();
    if (restore.snapshot !== null) app.restore(restore.snapshot);
    const random = (): number => systemRandom(); // crypto.getRandomValues
    const node = new RaftNode({
      id: options.id, voters: options.voters, electionTicks: options.electionTicks ?? 15, heartbeatTicks: options.heartbeatTicks ?? 3,
      random, maxEntriesPerAppend: 512, maxCatchUpSteps: 16, checkQuorum: true,
    }, restore);
    let replica: Replica | null = null;
    const transport = await PeerTransport.start({
      id: options.id, listen: options.peerListen, peers: options.peers, signer: options.signer, nodeKeys: options.nodeKeys,
      clock: options.clock, logger: options.logger,
      onMessage: (message) => {
        if (replica !== null) replica.#step(message); // messages before the replica exists are dropped: Raft resends
      },
    });
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.clientListen.port, options.clientListen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const lastApplied = { index: restore.snapshot?.index ?? 0, term: restore.snapshot?.term ?? 0 };
    replica = new Replica({ options, node, storage, app, transport, server, lastApplied });
    const live = replica;
    server.on('connection', (socket) => live.#serve(socket));
    options.logger?.info('replica started', { fields: { node_id: options.id, term: node.term, commit_index: node.commitIndex } });
    return replica;
  }

  /** The node id. */
  get id(): NodeId {
    return this.#options.id;
  }

  /** The bound peer port. */
  get peerPort(): number {
    return this.#transport.port;
  }

  /** The bound client port. */
  get clientPort(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The peer transport's counters. */
  get transportStats() {
    return this.#transport.stats;
  }

  /**
   * What `{"op":"status"}` answers. The state hash serializes the whole state (0.6 s for
   * 20,000 keys with week 12's table), so it is computed once per applied index and
   * reused by every poll until the next entry applies.
   */
  status(): StatusReply {
    const node = this.#node;
    const applied = this.#lastApplied.index;
    if (this.#hashed?.index !== applied) this.#hashed = { index: applied, hash: this.#app.stateHash() };
    return {
      ok: true, node: this.id, role: node.role, term: node.term, leader: node.leader,
      commit_index: node.commitIndex, applied_index: node.appliedIndex, state_hash: this.#hashed.hash,
    };
  }

  #step(message: Parameters<RaftNode['step']>[0]): void {
    try {
      this.#node.step(message);
    } catch (error) {
      this.#options.logger?.error('step failed', { fields: { error_code: isCivicError(error) ? error.code : 'E_INTERNAL', detail: String(error) } });
    }
    this.#schedule();
  }

  /** Runs the Ready loop soon: after the current I/O phase, so everything that arrived in it shares one Ready. */
  #schedule(): void {
    if (this.#scheduled || this.#looping !== null || this.#stopped !== null) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#looping === null && this.#stopped === null && this.#node.hasReady()) this.#looping = this.#loop().finally(() => { this.#looping = null; });
    });
  }

  // #region replica-ready-loop
  /**
   * The Ready loop: persist (one WAL group), then send, then apply, then advance, for as
   * long as the core has something. Whatever arrives while a save is in flight (proposals,
   * messages, ticks) accumulates in the core and leaves in the next Ready together: many
   * proposals share one save and one append message per follower.
   *
   * One exception to "persist, then send": a leader's appends and snapshots leave before
   * its own fdatasync, so its disk write and its followers' run at the same time (Raft
   * §10.2.1). That is safe because the core counts the leader's own copy toward a majority
   * only after `advance`, i.e. after the save. Acknowledgements and votes always wait.
   *
   * And one shortcut on "then apply": committed entries that an earlier Ready's save
   * already made durable here are applied before this Ready's save, not after it. Under
   * load a leader learns of a commit while it writes the next group; waiting for that
   * write before answering added a whole fdatasync to every put.
   */
  async #loop(): Promise<void> {
    try {
      while (this.#stopped === null && this.#node.hasReady()) {
        const ready = this.#node.ready();
        for (const message of ready.messages) if (isReplication(message)) this.#transport.send(message); // 0.
        const early = committedBeforeSave(ready);
        for (let i = 0; i < early; i++) this.#apply(ready.committed[i]!); // 0. what earlier saves made durable
        await this.#storage.save(ready); // 1. durable before anyone hears an answer from us
        for (const message of ready.messages) if (!isReplication(message)) this.#transport.send(message); // 2.
        if (ready.snapshot !== null) this.#installSnapshot(ready.snapshot); // 3. a leader's snapshot first,
        for (let i = early; i < ready.committed.length; i++) this.#apply(ready.committed[i]!); //    then the entries after it
        if (ready.softState !== null) this.#roleChanged(ready.softState);
        this.#node.advance(ready); // 4.
        await this.#maybeCompact(ready);
      }
    } catch (error) {
      // Storage failed (E_WAL_IO) or the core refused (a bug): nothing more may be acknowledged.
      // Stop, and answer the waiting as uncertain.
      this.#stopped = error;
      clearInterval(this.#ticker);
      this.#options.logger?.error('ready loop stopped', { fields: { node_id: this.id, error_code: isCivicError(error) ? error.code : 'E_INTERNAL', detail: String(error) } });
      this.#failPending('the node stopped after a storage or core failure');
    }
  }
  // #endregion replica-ready-loop

  #apply(entry: Entry): void {
    this.#lastApplied = { index: entry.index, term: entry.term };
    this.#sinceSnapshot += 1;
    const reply = entry.data === null ? undefined : this.#app.apply(entry);
    const waiting = this.#pending.get(entry.index);
    if (waiting === undefined) return;
    this.#pending.delete(entry.index);
    clearTimeout(waiting.timer);
    // Another leader's entry took our index: ours was overwritten, but say uncertain, never guess.
    waiting.resolve(waiting.term === entry.term ? reply as KvReply : this.#uncertain(waiting.requestId, 'another leader\'s entry took its place'));
  }

  #installSnapshot(snapshot: Snapshot): void {
    this.#app.restore(snapshot);
    this.#lastApplied = { index: snapshot.index, term: snapshot.term };
    this.#sinceSnapshot = 0;
    for (const [index, waiting] of this.#pending) {
      if (index > snapshot.index) continue;
      this.#pending.delete(index);
      clearTimeout(waiting.timer);
      waiting.resolve(this.#uncertain(waiting.requestId, 'a snapshot replaced the log before its entry applied here'));
    }
  }

  #roleChanged(soft: SoftState): void {
    this.#options.logger?.info('role changed', { fields: { node_id: this.id, role: soft.role, term: soft.term, leader: soft.leader ?? undefined } });
    if (soft.role !== 'leader') this.#failPending('leadership was lost before it committed');
  }

  async #maybeCompact(ready: Ready): Promise<void> {
    if (ready.committed.length === 0 || this.#sinceSnapshot < (this.#options.snapshotEvery ?? 100_000)) return;
    const snapshot: Snapshot = { ...this.#lastApplied, data: this.#app.snapshot() };
    await this.#storage.compact(snapshot);
    this.#node.compact(snapshot);
    this.#sinceSnapshot = 0;
  }

  #uncertain(requestId: string | null, why: string): ReplicaRefusal {
    return { ok: false, request_id: requestId, code: 'E_RAFT_UNCERTAIN', message: `Cannot confirm the command: ${why}; it may still commit, retry with the same request id` };
  }

  #failPending(why: string): void {
    for (const [index, waiting] of this.#pending) {
      this.#pending.delete(index);
      clearTimeout(waiting.timer);
      waiting.resolve(this.#uncertain(waiting.requestId, why));
    }
  }

  /**
   * Proposes one command's bytes and resolves with its reply once its entry applied here,
   * `E_RAFT_NOT_LEADER` at once when this node does not lead, or `E_RAFT_UNCERTAIN`.
   */
  propose(data: Uint8Array, requestId: string | null): Promise<KvReply | NotLeaderReply | ReplicaRefusal> {
    if (this.#stopped !== null) return Promise.resolve(this.#uncertain(requestId, 'the node stopped'));
    const result = this.#node.propose(data);
    if (!result.ok) {
      const leader = result.leader === this.id ? null : result.leader;
      return Promise.resolve({
        ok: false, request_id: requestId, code: 'E_RAFT_NOT_LEADER', message: `Cannot accept the command: ${this.id} is not the leader of term ${result.term}`,
        leader, leader_addr: leader === null ? null : this.#options.clientAddrs.get(leader) ?? null,
      });
    }
    this.#schedule();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (this.#pending.get(result.index)?.timer !== timer) return;
        this.#pending.delete(result.index);
        resolve(this.#uncertain(requestId, `not applied within ${this.#options.commitTimeoutMs ?? 5000} ms`));
      }, this.#options.commitTimeoutMs ?? 5000);
      this.#pending.set(result.index, { term: result.term, requestId, resolve, timer });
    });
  }

  /** Answers one client frame: status, or week 9's verification and parsing, then a proposal. */
  async #answer(frame: Uint8Array): Promise<ReplicaReply> {
    if (isStatusRequest(frame)) return this.status();
    const stamp = (reply: KvReply | NotLeaderReply | ReplicaRefusal): ReplicaReply => stampReply(reply, { term: this.#node.term, node: this.id });
    if (this.#draining) return stamp({ ok: false, request_id: null, code: 'E_RAFT_SHUTTING_DOWN', message: `Cannot accept the request: ${this.id} is draining` });
    let readKey: string | null = null;
    // handleKvFrame verifies and parses exactly as week 9's server does, then hands the
    // command to this store: a write becomes a proposal, whose reply it passes through.
    const store: KvStore = {
      apply: (command: KvCommand) => this.propose(this.#proposal(command), command.request_id) as Promise<KvResult>,
      get: (key: string) => {
        readKey = key;
        return READ_THROUGH_LOG;
      },
    };
    const reply = await handleKvFrame(frame, { verifier: this.#options.clientVerifier, store });
    if (reply === READ_THROUGH_LOG && readKey !== null) return stamp(await this.propose(this.#proposal({ op: 'get', key: readKey }), null));
    return stamp(reply);
  }

  /** The entry data for a request: the application's encoding, or the request's canonical JSON. */
  #proposal(request: KvRequest): Uint8Array {
    return this.#app.proposal?.(request, (this.#options.clock ?? systemClock).now()) ?? canonicalBytes(request);
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    const decoder = new FrameDecoder({ maxFrameBytes: MAX_KV_FRAME_BYTES });
    // Week 9's bound: reading pauses past maxPipelined unanswered requests or the reply watermark.
    const backpressure = new PipelineBackpressure(socket, this.#options.clientLimits ?? DEFAULT_PIPELINE_LIMITS);
    let chain: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Uint8Array) => {
      let frames: Uint8Array[];
      try {
        frames = decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (frame.length === 0) continue; // keep-alive
        // Every request starts now (pipelined requests share a Ready); answers leave in request order.
        backpressure.accepted();
        const answer = this.#answer(frame);
        chain = chain.then(async () => {
          try {
            const reply = await answer;
            if (!socket.destroyed) socket.write(encodeFrame(encodeReply(reply), MAX_KV_FRAME_BYTES));
          } finally {
            backpressure.answered();
          }
        });
        const tracked = chain;
        this.#inFlight.add(tracked);
        void tracked.finally(() => this.#inFlight.delete(tracked));
      }
    });
  }

  /**
   * Drains and stops: new requests are refused `E_RAFT_SHUTTING_DOWN`, answers in flight are
   * finished (up to `graceMs`, then the waiting get `E_RAFT_UNCERTAIN`), then ticking, the
   * peer transport, the Ready loop and storage stop, in that order.
   */
  async close(options: { readonly graceMs?: number } = {}): Promise<void> {
    this.#draining = true;
    const listenerClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => { timer = setTimeout(resolve, options.graceMs ?? 5000); });
    await Promise.race([Promise.allSettled([...this.#inFlight]), expired]);
    clearTimeout(timer);
    this.#failPending('the node is shutting down');
    await Promise.allSettled([...this.#inFlight]); // the uncertain answers are written now
    clearInterval(this.#ticker);
    await this.#transport.close();
    this.#stopped ??= 'closed'; // no new Ready loop; the running one finishes its save
    await this.#looping;
    for (const socket of this.#sockets) socket.end();
    for (const socket of this.#sockets) socket.destroy();
    await listenerClosed;
    await this.#storage.close();
  }
}
