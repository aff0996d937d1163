/**
 * A deterministic simulator for the Raft core: N {@link RaftNode}s, each with a "disk"
 * that holds exactly what its Ready asked to persist and an application (week 9's
 * {@link KvStateMachine}); a seeded network that drops, delays, reorders, duplicates and
 * partitions messages; crashes that lose everything not on disk; and clients whose
 * history the linearizability checker can judge. One seed fixes every choice, so a
 * failing seed replays exactly.
 *
 * ```text
 *  tick t:  1. deliver messages due at t (step → drain Ready)
 *           2. tick every live node       (tick → drain Ready)
 *           3. clients start, retry or time out operations (propose → drain Ready)
 *           4. check the invariants
 *  drain:   persist(snapshot, entries, hardState) → send → apply → advance → maybe compact
 * ```
 *
 * Invariants checked as the run goes (a breach throws `E_RAFT_SAFETY` naming the seed):
 * Election Safety (one leader per term), no second vote in a term (read from the
 * persisted hard states), Log Matching (one entry per (index, term), and pairwise prefix
 * agreement), Leader Completeness (a new leader's log holds every entry applied anywhere)
 * and State Machine Safety (no two nodes apply different entries at one index). After the
 * faults stop, {@link Simulation.checkConverged} compares every node's state hash.
 *
 * Reads go through the log: a client's get is proposed as a read entry (week 9's get
 * command, which changes nothing) and answered when the contacted node applies it. Its
 * position in the log orders it among the writes, so the answer is linearizable without
 * leases or read indexes, at the price of one round of replication per read.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { seededRandom } from '../../lib/framing.ts';
import { bytesEqual, sha256Hex } from '../../lib/hashing.ts';
import { KvStateMachine, kvPayload, valueHash, type KvRequest, type TextDigest } from '../../lib/kv.ts';
import { REPLICATION_ERRORS } from './catalog.ts';
import type { KvInput, KvOutput, Operation } from './linearizability.ts';
import { RaftNode } from './raft.ts';
import type { Entry, HardState, Message, NodeId, RaftConfig, RaftRestore, Ready, Snapshot } from './raft_types.ts';

const fail = errorFactory(REPLICATION_ERRORS);
const decoder = new TextDecoder();

/**
 * One client operation, exactly what `checkOperations(kvModel, history)` takes: `call` and
 * `ret` are simulated time (tick × 1000 + order within the tick); an operation still
 * running at the end has output null and ret +Infinity. The clients do put and get only.
 */
export type KvOperation = Operation<KvInput, KvOutput>;

/** How the simulated network misbehaves. All probabilities are per message. */
export interface NetworkOptions {
  /** Probability a message is lost. */
  readonly drop: number;
  /** Probability a message is delivered twice (each copy with its own delay). */
  readonly duplicate: number;
  /** Fewest ticks a message takes (at least 1). */
  readonly minDelay: number;
  /** Most ticks a message takes; a spread above minDelay reorders messages. */
  readonly maxDelay: number;
}

/** A reliable, in-order, one-tick network. */
export const RELIABLE_NETWORK: NetworkOptions = { drop: 0, duplicate: 0, minDelay: 1, maxDelay: 1 };

/** Options of a {@link Simulation}. */
export interface SimOptions {
  /** The seed of every random choice. */
  readonly seed: number;
  /** Cluster size (default 3). */
  readonly nodes?: number;
  /** Base election timeout in ticks (default 10). */
  readonly electionTicks?: number;
  /** Heartbeat interval in ticks (default 2). */
  readonly heartbeatTicks?: number;
  /** Entries per append message (default 8). */
  readonly maxEntriesPerAppend?: number;
  /** Refusals before a leader sends a snapshot (default 4). */
  readonly maxCatchUpSteps?: number;
  /** Leaders step down without a live majority (default true). */
  readonly checkQuorum?: boolean;
  /** The network at start (default {@link RELIABLE_NETWORK}). */
  readonly network?: Partial<NetworkOptions>;
  /** Each application snapshots and compacts every this many applied entries (default 0: never). */
  readonly snapshotEvery?: number;
  /** Ticks a client waits for an answer before it retries with the same request id (default 30). */
  readonly clientTimeout?: number;
  /** Builds each node (default `new RaftNode`); tests pass a variant for negative controls. */
  readonly nodeFactory?: (config: RaftConfig, restore: RaftRestore) => RaftNode;
}

/** What a node's disk holds: exactly what its Readies asked to persist. */
export interface Disk {
  /** The last persisted hard state. */
  hardState: HardState;
  /** The last persisted snapshot. */
  snapshot: Snapshot | null;
  /** The persisted entries after the snapshot, contiguous. */
  entries: Entry[];
}

interface Replica {
  readonly id: NodeId;
  node: RaftNode | null; // null while crashed
  readonly disk: Disk;
  app: KvStateMachine;
  appliedTerm: number;
  /** Client proposals this node accepted, by log index. */
  pending: Map<number, Pending>;
}

/** A client proposal a node accepted: which operation (client, seq), which attempt, at which term. */
interface Pending {
  readonly client: number;
  readonly seq: number;
  readonly attempt: number;
  readonly term: number;
}

interface InFlight {
  readonly due: number;
  readonly order: number;
  readonly message: Message;
}

interface ClientOp {
  readonly input: KvInput;
  readonly payload: Uint8Array;
  readonly call: number;
  attempt: number;
  /** When the current attempt is given up: retry with the same request id. */
  deadline: number;
  /** Waiting on a proposal (true) or due to submit at the next tick (false). */
  submitted: boolean;
}

interface Client {
  readonly id: number;
  target: NodeId;
  seq: number;
  op: ClientOp | null;
}

/** Message counts by kind, for RPC-count checks. */
export interface MessageStats {
  /** Messages sent by type (before the network drops any). */
  readonly byType: Record<Message['type'], number>;
  /** Append requests that carried entries. */
  appendsWithEntries: number;
  /** Append requests without entries (heartbeats, commit notices). */
  emptyAppends: number;
}

function emptyStats(): MessageStats {
  return { byType: { append: 0, append_reply: 0, vote: 0, vote_reply: 0, snapshot: 0, snapshot_reply: 0 }, appendsWithEntries: 0, emptyAppends: 0 };
}

function entryText(data: Uint8Array | null): string {
  return data === null ? '<no-op>' : decoder.decode(data);
}

/** The deterministic cluster: nodes, disks, applications, network, clients and invariant checks. */
export class Simulation {
  readonly #seed: number;
  readonly #random: () => number;
  readonly #options: SimOptions;
  readonly #replicas = new Map<NodeId, Replica>();
  /** Every node id, in order. */
  readonly ids: readonly NodeId[];
  #network: NetworkOptions;
  #groups: Map<NodeId, number> | null = null;
  #dropFilter: ((m: Message) => boolean) | null = null;
  #inFlight: InFlight[] = [];
  #order = 0;
  #now = 0;
  #sub = 0;
  /** Messages sent so far, by kind. */
  stats: MessageStats = emptyStats();
  readonly #observers: ((m: Message) => void)[] = [];
  // Invariant state.
  readonly #leaders = new Map<number, NodeId>();
  readonly #votes = new Map<string, NodeId>();
  readonly #identity = new Map<string, string>();
  readonly #applied: ({ readonly term: number; readonly text: string } | undefined)[] = [];
  // Clients.
  readonly #clients: Client[] = [];
  readonly #history: KvOperation[] = [];
  /**
   * Week 9's SHA-256 of a command or value, remembered: every replica hashes the same
   * texts, so the run computes each digest once instead of once per node. Same digests,
   * same snapshot bytes; only the speed differs.
   */
  readonly #hashText: TextDigest;

  /** A cluster of fresh nodes (empty disks), nobody crashed, no partition. */
  constructor(options: SimOptions) {
    this.#seed = options.seed;
    this.#options = options;
    this.#random = seededRandom(options.seed);
    this.#network = { ...RELIABLE_NETWORK, ...options.network };
    const digests = new Map<string, string>();
    this.#hashText = (text) => {
      let digest = digests.get(text);
      if (digest === undefined) {
        digest = valueHash(text);
        digests.set(text, digest);
      }
      return digest;
    };
    const n = options.nodes ?? 3;
    this.ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
    for (const id of this.ids) {
      const replica: Replica = {
        id, node: null, disk: { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] },
        app: new KvStateMachine({ hashText: this.#hashText }), appliedTerm: 0, pending: new Map(),
      };
      this.#replicas.set(id, replica);
      this.#boot(replica);
    }
  }

  /** The seed this run was made with. */
  get seed(): number {
    return this.#seed;
  }

  /** The current tick. */
  get now(): number {
    return this.#now;
  }

  /** The node `id`, or null while it is crashed. */
  node(id: NodeId): RaftNode | null {
    return this.#replica(id).node;
  }

  /** What `id`'s disk holds (survives crashes). */
  disk(id: NodeId): Readonly<Disk> {
    return this.#replica(id).disk;
  }

  /** `id`'s application state machine. */
  app(id: NodeId): KvStateMachine {
    return this.#replica(id).app;
  }

  /** The live leader with the highest term, or null. */
  leader(): NodeId | null {
    let best: RaftNode | null = null;
    for (const r of this.#replicas.values()) {
      if (r.node?.role === 'leader' && (best === null || r.node.term > best.term)) best = r.node;
    }
    return best?.id ?? null;
  }

  /** The client history so far; operations still running have output null and ret +Infinity. */
  history(): KvOperation[] {
    const open = this.#clients.filter((c) => c.op !== null).map((c) => {
      const op = c.op as ClientOp;
      return { client: c.id, input: op.input, call: op.call, output: null, ret: Number.POSITIVE_INFINITY };
    });
    return [...this.#history, ...open];
  }

  /** Starts counting messages from zero. */
  resetStats(): void {
    this.stats = emptyStats();
  }

  /** Calls `observer` with every message a node sends (before the network acts on it). */
  observe(observer: (m: Message) => void): void {
    this.#observers.push(observer);
  }

  #replica(id: NodeId): Replica {
    const r = this.#replicas.get(id);
    if (r === undefined) throw new RangeError(`no node ${id}`);
    return r;
  }

  #violation(what: string): never {
    throw fail('E_RAFT_SAFETY', `Cannot keep ${what} (seed ${this.#seed}, tick ${this.#now})`);
  }

  #boot(replica: Replica): void {
    const o = this.#options;
    const config: RaftConfig = {
      id: replica.id, voters: this.ids,
      electionTicks: o.electionTicks ?? 10, heartbeatTicks: o.heartbeatTicks ?? 2,
      random: seededRandom(Math.floor(this.#random() * 2 ** 32)),
      maxEntriesPerAppend: o.maxEntriesPerAppend ?? 8, maxCatchUpSteps: o.maxCatchUpSteps ?? 4,
      checkQuorum: o.checkQuorum ?? true,
    };
    const disk = replica.disk;
    const restore: RaftRestore = { hardState: disk.hardState, snapshot: disk.snapshot, entries: disk.entries.slice() };
    replica.node = o.nodeFactory === undefined ? new RaftNode(config, restore) : o.nodeFactory(config, restore);
    replica.app = this.#restoreApp(disk.snapshot);
    replica.appliedTerm = disk.snapshot?.term ?? 0;
    replica.pending = new Map();
    this.#drain(replica); // re-apply committed entries from the disk
  }

  #restoreApp(snapshot: Snapshot | null): KvStateMachine {
    const options = { hashText: this.#hashText };
    return snapshot === null ? new KvStateMachine(options) : KvStateMachine.restore(snapshot.data, options);
  }

  // ——— faults ———

  /** Crashes `id`: it loses everything not on its disk (memory, application, pending client requests). */
  crash(id: NodeId): void {
    const r = this.#replica(id);
    r.node = null;
    r.pending = new Map();
  }

  /** Restarts a crashed `id` from its disk; the application is rebuilt from the snapshot and the committed log. */
  restart(id: NodeId): void {
    const r = this.#replica(id);
    if (r.node === null) this.#boot(r);
  }

  /** Cuts the network into groups: a message crosses only inside one group. Nodes not named form one more group. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    const map = new Map<NodeId, number>();
    groups.forEach((g, i) => g.forEach((id) => map.set(id, i)));
    for (const id of this.ids) if (!map.has(id)) map.set(id, groups.length);
    this.#groups = map;
  }

  /** Removes any partition. */
  heal(): void {
    this.#groups = null;
  }

  /** Changes the network's behaviour from now on. */
  setNetwork(network: Partial<NetworkOptions>): void {
    this.#network = { ...this.#network, ...network };
  }

  /** Drops every message `filter` matches at delivery, on top of the network's own losses (null: none). */
  dropWhere(filter: ((m: Message) => boolean) | null): void {
    this.#dropFilter = filter;
  }

  // ——— driving ———

  /**
   * One tick: deliver due messages, tick the nodes (only those in `only`, when given),
   * run the clients, check invariants.
   */
  tick(only?: readonly NodeId[]): void {
    this.#now++;
    this.#sub = 0;
    this.#deliver();
    for (const r of this.#replicas.values()) {
      if (r.node === null || (only !== undefined && !only.includes(r.id))) continue;
      r.node.tick();
      this.#drain(r);
    }
    this.#runClients();
    if (this.#now % 25 === 0) this.checkLogMatching();
  }

  /** Runs `ticks` ticks. */
  run(ticks: number, only?: readonly NodeId[]): void {
    for (let i = 0; i < ticks; i++) this.tick(only);
  }

  /** Ticks until `done()` holds (checked before each tick); false when `maxTicks` ran out first. */
  runUntil(done: () => boolean, maxTicks: number, only?: readonly NodeId[]): boolean {
    for (let i = 0; i < maxTicks; i++) {
      if (done()) return true;
      this.tick(only);
    }
    return done();
  }

  /** Ticks only `id` (others' timers stand still) until it leads; false when it did not within `maxTicks`. */
  elect(id: NodeId, maxTicks = 100): boolean {
    return this.runUntil(() => this.node(id)?.role === 'leader', maxTicks, [id]);
  }

  /** Proposes `data` at `id` directly (not a client operation) and drains its Ready. */
  propose(id: NodeId, data: Uint8Array): ReturnType<RaftNode['propose']> {
    const r = this.#replica(id);
    if (r.node === null) return { ok: false, code: 'E_RAFT_NOT_LEADER', leader: null, term: 0 };
    const result = r.node.propose(data);
    this.#drain(r);
    return result;
  }

  // #region sim-network
  #send(message: Message): void {
    this.stats.byType[message.type]++;
    if (message.type === 'append') {
      if (message.entries.length > 0) this.stats.appendsWithEntries++;
      else this.stats.emptyAppends++;
    }
    for (const observe of this.#observers) observe(message);
    const net = this.#network;
    if (this.#random() < net.drop) return;
    const copies = this.#random() < net.duplicate ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const delay = net.minDelay + Math.floor(this.#random() * (net.maxDelay - net.minDelay + 1));
      this.#inFlight.push({ due: this.#now + Math.max(1, delay), order: this.#order++, message });
    }
  }

  /** Delivers the messages due now, in send order; a partition or a crashed recipient loses them. */
  #deliver(): void {
    const due: InFlight[] = [];
    const later: InFlight[] = [];
    for (const f of this.#inFlight) (f.due <= this.#now ? due : later).push(f);
    this.#inFlight = later;
    due.sort((a, b) => a.order - b.order);
    for (const { message } of due) {
      const groups = this.#groups;
      if (groups !== null && groups.get(message.from) !== groups.get(message.to)) continue;
      if (this.#dropFilter?.(message) === true) continue;
      const r = this.#replicas.get(message.to);
      if (r?.node == null) continue;
      r.node.step(message);
      this.#drain(r);
    }
  }
  // #endregion sim-network

  // ——— the Ready loop ———

  #drain(r: Replica): void {
    const node = r.node;
    if (node === null) return;
    while (node.hasReady()) {
      const ready = node.ready();
      this.#persist(r, ready);
      for (const m of ready.messages) this.#send(m);
      for (const entry of ready.committed) this.#apply(r, entry);
      node.advance(ready);
      if (ready.softState?.role === 'leader') this.#checkNewLeader(r, ready.softState.term);
      this.#maybeCompact(r);
    }
  }

  #persist(r: Replica, ready: Ready): void {
    const disk = r.disk;
    if (ready.snapshot !== null) {
      disk.snapshot = ready.snapshot;
      disk.entries = []; // the core dropped its whole log for the snapshot
      r.app = this.#restoreApp(ready.snapshot);
      r.appliedTerm = ready.snapshot.term;
      for (const index of r.pending.keys()) if (index <= ready.snapshot.index) this.#answerLost(r, index);
    }
    const first = ready.entries[0];
    if (first !== undefined) {
      const offset = disk.snapshot?.index ?? 0;
      disk.entries.length = Math.min(disk.entries.length, first.index - offset - 1); // replace the suffix
      for (const e of ready.entries) {
        this.#checkIdentity(e);
        disk.entries.push(e);
      }
    }
    if (ready.hardState !== null) {
      const hs = ready.hardState;
      if (hs.vote !== null) {
        const key = `${r.id}:${hs.term}`;
        const earlier = this.#votes.get(key);
        if (earlier !== undefined && earlier !== hs.vote) this.#violation(`one vote per term: ${r.id} voted for ${earlier} and ${hs.vote} in term ${hs.term}`);
        this.#votes.set(key, hs.vote);
      }
      disk.hardState = hs;
    }
  }

  #apply(r: Replica, entry: Entry): void {
    const text = entryText(entry.data);
    const seen = this.#applied[entry.index];
    if (seen === undefined) this.#applied[entry.index] = { term: entry.term, text };
    else if (seen.term !== entry.term || seen.text !== text) {
      this.#violation(`State Machine Safety: ${r.id} applied ${text} (term ${entry.term}) at ${entry.index}, another node applied ${seen.text} (term ${seen.term})`);
    }
    r.appliedTerm = entry.term;
    let value: string | null = null;
    if (entry.data !== null) {
      const request = JSON.parse(text) as KvRequest;
      if (request.op === 'get') value = r.app.get(request.key)?.value ?? null;
      else r.app.apply(request, { term: entry.term, lsn: entry.index });
    }
    const pending = r.pending.get(entry.index);
    if (pending === undefined) return;
    r.pending.delete(entry.index);
    if (pending.term !== entry.term) this.#answerLost(r, entry.index, pending);
    else this.#answer(pending, { value });
  }

  #maybeCompact(r: Replica): void {
    const every = this.#options.snapshotEvery ?? 0;
    const node = r.node as RaftNode;
    const base = r.disk.snapshot?.index ?? 0;
    if (every <= 0 || node.appliedIndex - base < every) return;
    const snapshot: Snapshot = { index: node.appliedIndex, term: r.appliedTerm, data: r.app.snapshot() };
    node.compact(snapshot);
    r.disk.snapshot = snapshot;
    r.disk.entries = r.disk.entries.slice(snapshot.index - base);
  }

  // ——— invariants ———

  #checkIdentity(e: Entry): void {
    const key = `${e.index}:${e.term}`;
    const text = entryText(e.data);
    const known = this.#identity.get(key);
    if (known === undefined) this.#identity.set(key, text);
    else if (known !== text) this.#violation(`Log Matching: two different entries at index ${e.index} of term ${e.term}`);
  }

  #checkNewLeader(r: Replica, term: number): void {
    const holder = this.#leaders.get(term);
    if (holder !== undefined && holder !== r.id) this.#violation(`Election Safety: ${holder} and ${r.id} both lead term ${term}`);
    this.#leaders.set(term, r.id);
    // Leader Completeness: every entry applied anywhere is in the new leader's log.
    const disk = r.disk;
    const offset = disk.snapshot?.index ?? 0;
    for (let i = offset + 1; i < this.#applied.length; i++) {
      const a = this.#applied[i];
      if (a === undefined) continue;
      const mine = disk.entries[i - offset - 1];
      if (mine === undefined || mine.term !== a.term) this.#violation(`Leader Completeness: leader ${r.id} of term ${term} lacks committed entry ${i}`);
    }
  }

  /** Checks Log Matching pairwise over the disks: where two logs share an (index, term), they agree on every entry before it. */
  checkLogMatching(): void {
    const disks = this.ids.map((id) => this.#replica(id).disk);
    for (let a = 0; a < disks.length; a++) {
      for (let b = a + 1; b < disks.length; b++) {
        const da = disks[a] as Disk;
        const db = disks[b] as Disk;
        const offA = da.snapshot?.index ?? 0;
        const offB = db.snapshot?.index ?? 0;
        const lo = Math.max(offA, offB) + 1;
        const hi = Math.min(offA + da.entries.length, offB + db.entries.length);
        let agreeFrom = -1;
        for (let i = hi; i >= lo; i--) {
          const ea = da.entries[i - offA - 1] as Entry;
          const eb = db.entries[i - offB - 1] as Entry;
          if (agreeFrom < 0) {
            if (ea.term === eb.term) agreeFrom = i;
          } else if (ea.term !== eb.term) {
            this.#violation(`Log Matching: ${this.ids[a]} and ${this.ids[b]} agree at ${agreeFrom} but differ at ${i}`);
          }
        }
      }
    }
  }

  /**
   * After the faults: every live node applied the same entries, so every state (week 9's
   * canonical snapshot bytes: keys, versions, the dedupe table, and the index of the last
   * command applied) is byte-identical, whether a node applied its log or installed a
   * snapshot, and whenever it compacted. Equal bytes are equal state hashes; comparing
   * bytes spares a pure-JS SHA-256 over each (see {@link stateHash}).
   * @throws CivicError `E_RAFT_SAFETY` when two nodes' states differ
   */
  checkConverged(): void {
    this.checkLogMatching();
    let reference: { readonly id: NodeId; readonly bytes: Uint8Array } | null = null;
    for (const r of this.#replicas.values()) {
      if (r.node === null) continue;
      const bytes = r.app.snapshot();
      if (reference === null) reference = { id: r.id, bytes };
      else if (!bytesEqual(bytes, reference.bytes)) {
        this.#violation(`identical state: ${reference.id}=${sha256Hex(reference.bytes).slice(0, 12)} ${r.id}=${sha256Hex(bytes).slice(0, 12)}`);
      }
    }
  }

  /** The state hash of `id`'s application: SHA-256 hex of its snapshot bytes. */
  stateHash(id: NodeId): string {
    return sha256Hex(this.#replica(id).app.snapshot());
  }

  /** True when a leader exists, everyone is alive, and every node applied everything in the leader's log. */
  quiescent(): boolean {
    const leader = this.leader();
    if (leader === null) return false;
    const l = this.node(leader) as RaftNode;
    if (l.commitIndex !== l.lastIndex) return false;
    for (const r of this.#replicas.values()) {
      if (r.node === null || r.node.appliedIndex !== l.commitIndex || r.node.term !== l.term) return false;
    }
    return true;
  }

  // ——— clients ———

  /** Adds `count` clients; each keeps one put or get running whenever {@link clientsActive} allows. */
  addClients(count: number): void {
    for (let i = 0; i < count; i++) {
      this.#clients.push({ id: this.#clients.length, target: this.ids[i % this.ids.length] as NodeId, seq: 0, op: null });
    }
  }

  /** Whether clients start new operations (running ones always continue). */
  clientsActive = true;

  /** True when no client has an operation running. */
  clientsIdle(): boolean {
    return this.#clients.every((c) => c.op === null);
  }

  #time(): number {
    return this.#now * 1000 + this.#sub++;
  }

  #runClients(): void {
    for (const c of this.#clients) {
      if (c.op === null) {
        if (!this.clientsActive || this.#random() < 0.75) continue;
        c.op = this.#newOp(c);
      }
      const op = c.op;
      if (op.submitted && this.#now < op.deadline) continue;
      if (op.submitted) op.attempt++; // timed out: retry, same request id
      this.#submit(c, op);
    }
  }

  #newOp(c: Client): ClientOp {
    c.seq++;
    const key = `k${Math.floor(this.#random() * 3)}`;
    const requestId = `c${c.id}-${c.seq}`;
    const isPut = this.#random() < 0.6;
    const request: KvRequest = isPut ? { op: 'put', request_id: requestId, key, value: `v${c.id}.${c.seq}` } : { op: 'get', key, request_id: requestId };
    const input: KvInput = isPut ? { op: 'put', key, value: `v${c.id}.${c.seq}` } : { op: 'get', key };
    return { input, payload: kvPayload(request), call: this.#time(), attempt: 0, deadline: 0, submitted: false };
  }

  #submit(c: Client, op: ClientOp): void {
    const r = this.#replica(c.target);
    const result = r.node?.propose(op.payload);
    if (result === undefined || !result.ok) {
      // Not the leader (or down): follow the hint, else try the next node, at the next tick.
      const hint = result?.ok === false ? result.leader : null;
      c.target = hint ?? this.ids[(this.ids.indexOf(c.target) + 1) % this.ids.length] as NodeId;
      op.submitted = false;
      return;
    }
    r.pending.set(result.index, { client: c.id, seq: c.seq, attempt: op.attempt, term: result.term });
    op.submitted = true;
    op.deadline = this.#now + (this.#options.clientTimeout ?? 30);
    this.#drain(r);
  }

  #answer(pending: Pending, output: { readonly value: string | null }): void {
    const c = this.#clients[pending.client] as Client;
    const op = c.op;
    // An answer for an earlier operation of this client is stale. Any attempt of the
    // current one may answer it: a put's retries share its request id (dedupe gives the
    // first result), and every attempt of a get was proposed after the operation's call.
    if (op === null || pending.seq !== c.seq) return;
    this.#history.push({ client: c.id, input: op.input, call: op.call, output: op.input.op === 'get' ? output : { value: null }, ret: this.#time() });
    c.op = null;
  }

  /** The entry proposed at `index` was replaced (or swallowed by a snapshot): the client retries now. */
  #answerLost(r: Replica, index: number, pending = r.pending.get(index)): void {
    r.pending.delete(index);
    if (pending === undefined) return;
    const c = this.#clients[pending.client] as Client;
    const op = c.op;
    if (op !== null && pending.seq === c.seq && op.attempt === pending.attempt) {
      op.attempt++;
      op.submitted = false;
    }
  }
}

/** Options of one random run ({@link runSeed}). */
export interface SeedOptions {
  /** Cluster size (default 3). */
  readonly nodes?: number;
  /** Ticks of faults and client traffic before healing (default 300). */
  readonly ticks?: number;
  /** Clients (default 3). */
  readonly clients?: number;
  /** Builds each node (default `new RaftNode`): negative controls pass a broken subclass. */
  readonly nodeFactory?: SimOptions['nodeFactory'];
}

/** What one random run produced. */
export interface SeedResult {
  /** The seed. */
  readonly seed: number;
  /** The client history, for the linearizability checker. */
  readonly history: KvOperation[];
  /** Ticks run in all. */
  readonly ticks: number;
  /** Highest commit index reached. */
  readonly commitIndex: number;
}

/**
 * One random run: a cluster under seeded faults (drops, duplicates, reordering,
 * partitions, crashes and restarts) and client traffic, then healing, quiescing and the
 * state-hash comparison. Every invariant is checked throughout.
 * @throws CivicError `E_RAFT_SAFETY` on any violation, `E_RAFT_STALLED` when the healed cluster does not converge
 */
export function runSeed(seed: number, options: SeedOptions = {}): SeedResult {
  const knobs = seededRandom(seed ^ 0x5eed);
  // The knobs vary per seed too, so a sweep covers timer ratios, batch sizes and both checkQuorum settings.
  const sim = new Simulation({
    seed, nodes: options.nodes ?? 3,
    electionTicks: 8 + Math.floor(knobs() * 8),
    heartbeatTicks: 1 + Math.floor(knobs() * 3),
    checkQuorum: knobs() < 0.75,
    snapshotEvery: 20 + Math.floor(knobs() * 40),
    maxEntriesPerAppend: 1 + Math.floor(knobs() * 8),
    network: { drop: knobs() * 0.15, duplicate: knobs() * 0.1, minDelay: 1, maxDelay: 1 + Math.floor(knobs() * 3) },
    ...(options.nodeFactory === undefined ? {} : { nodeFactory: options.nodeFactory }),
  });
  sim.addClients(options.clients ?? 3);
  const ticks = options.ticks ?? 300;
  const faultRate = knobs() * 0.04;
  for (let t = 0; t < ticks; t++) {
    if (knobs() < faultRate) injectFault(sim, knobs);
    sim.tick();
  }
  sim.clientsActive = false;
  sim.heal();
  sim.setNetwork(RELIABLE_NETWORK);
  for (const id of sim.ids) sim.restart(id);
  const settled = sim.runUntil(() => sim.clientsIdle() && sim.quiescent(), 2000);
  if (!settled) throw fail('E_RAFT_STALLED', `Cannot converge after healing (seed ${seed}, tick ${sim.now})`);
  sim.checkConverged();
  const leader = sim.node(sim.leader() as NodeId) as RaftNode;
  return { seed, history: sim.history(), ticks: sim.now, commitIndex: leader.commitIndex };
}

function injectFault(sim: Simulation, random: () => number): void {
  const ids = sim.ids;
  const pick = (): NodeId => ids[Math.floor(random() * ids.length)] as NodeId;
  const roll = random();
  if (roll < 0.3) sim.crash(pick());
  else if (roll < 0.6) sim.restart(pick());
  else if (roll < 0.8) {
    const shuffled = ids.slice();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j] as NodeId, shuffled[i] as NodeId];
    }
    const cut = 1 + Math.floor(random() * (ids.length - 1));
    sim.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
  } else sim.heal();
}
