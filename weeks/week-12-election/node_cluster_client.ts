/**
 * The cluster client: sends one KV command to a replica cluster over TCP and keeps at it,
 * by {@link decideRetry}'s rule, until a node gives a final answer or the budget runs out.
 *
 * ```text
 *   send(request)                     request id fixed once, before the first attempt
 *     ├─ attempt at node X:  connect ─▶ one frame out ─▶ one frame back   (week 9's protocol)
 *     │     put/delete: a NEW signed envelope every attempt (fresh nonce and timestamp,
 *     │                 or the node's replay cache refuses it), SAME request id and payload
 *     │     get:        the canonical command, unsigned
 *     ├─ read the reply: a week 9 KvReply plus term and node      (else E_CLIENT_REPLY_MALFORMED)
 *     ├─ fence it: a node term below one already seen is a deposed leader (E_FENCED_STALE_TERM)
 *     └─ decideRetry ─▶ retry (now, or after a backoff) at the node it names, or stop
 * ```
 *
 * Which term is the node's: a refusal's `term` is the node's current term, but an applied
 * result's `term` is the term of the log entry that applied it, and a retry answered from
 * the dedupe table carries the FIRST answer, whose entry term may be older than terms the
 * client has seen since. Fencing that would refuse exactly the answer dedupe exists to
 * give. So an ok reply is fenced by its `node_term` (the node's current term) when the
 * replica sends one, and not at all when it does not ({@link nodeTermOf}). Not fencing it
 * is safe for writes and logged reads: a replica answers them only once committed, and a
 * deposed leader can no longer commit anything new.
 *
 * Every attempt lands in a trace (node, request id, code, term, decision), which the
 * demo prints and a history checker reads. One connection per attempt: a node that
 * failed once gets a fresh socket, and no attempt waits behind another.
 * @module
 */
import { connect, type Socket } from 'node:net';
import { randomIds, systemClock, type Clock, type IdSource } from '../../lib/clock.ts';
import { errorFactory, isCivicError, type CivicError } from '../../lib/errors.ts';
import { FRAME_ERRORS, FrameDecoder, connectError, encodeFrame, formatAddress, systemRandom, type NetAddress, type RandomSource } from '../../lib/framing.ts';
import { parseStrictJson } from '../../lib/hashing.ts';
import { KV_MSG_TYPE, MAX_KV_FRAME_BYTES, isKvCommand, kvPayload, type KvReply, type KvRequest } from '../../lib/kv.ts';
import { encodeSignedMessage, signEnvelope, type RandomBytes, type Signer } from '../../lib/signing.ts';
import { ELECTION_ERRORS } from './catalog.ts';
import { TermFence } from './fencing.ts';
import { DEFAULT_CLUSTER_RETRY_POLICY, decideRetry, type AttemptOutcome, type ClusterRetryPolicy, type RetryStep } from './retry_policy.ts';

const fail = errorFactory(ELECTION_ERRORS);
const failNetwork = errorFactory(FRAME_ERRORS);

/** The type of `setTimeout`'s handle, without naming Node's timer types. */
type Timer = ReturnType<typeof setTimeout>;

/** What a replica answers: week 9's reply, plus who answered and in which term. */
export type ClusterReply = KvReply & {
  /** On a refusal: the node's current term. On an applied result: the term of the entry that applied it. */
  readonly term: number;
  /** The node's current term, on every reply, when the replica sends it (see the module comment). */
  readonly node_term?: number;
  /** The answering node's id. */
  readonly node: string;
  /** With `E_RAFT_NOT_LEADER`: the leader's id, when the node knows one. */
  readonly leader?: string | null;
  /** With `E_RAFT_NOT_LEADER`: the leader's client address (`host:port`), when known. */
  readonly leader_addr?: string | null;
};

/** One attempt, as the trace records it. */
export interface AttemptTrace {
  /** The attempt number, from 1. */
  readonly attempt: number;
  /** The address the attempt went to. */
  readonly node: string;
  /** The request id it carried (the same on every attempt). */
  readonly request_id: string;
  /** Client clock when the attempt began. */
  readonly started_ms: number;
  /** How long the attempt took. */
  readonly elapsed_ms: number;
  /** The reply's or the transport error's code; null for an ok reply. */
  readonly code: string | null;
  /** The node's term as {@link nodeTermOf} reads it, else the reply's `term`; null without a readable reply. */
  readonly term: number | null;
  /** The id of the node that answered, or null. */
  readonly replier: string | null;
  /** The leader address the reply hinted at, or null. */
  readonly leader_addr: string | null;
  /** What the retry rule decided next. */
  readonly decision: RetryStep;
}

/** How one {@link ClusterClient.send} ended. */
export interface ClusterResult {
  /** The final reply (an ok or a refusal the cluster made on purpose); null when the client gave up. */
  readonly reply: ClusterReply | null;
  /**
   * Why the client gave up: `E_CLIENT_RETRIES_EXHAUSTED`, `E_CLIENT_DEADLINE`, or the
   * unreadable reply's code; null when there is a reply. The last trace entry's decision
   * says whether the command certainly did not take effect (`definite`).
   */
  readonly error: CivicError | null;
  /** Every attempt, in order. */
  readonly trace: readonly AttemptTrace[];
}

/** Options of a {@link ClusterClient}. */
export interface ClusterClientOptions {
  /** The nodes' client addresses, `host:port` (`[::1]:7001` for IPv6); the first is tried first. */
  readonly nodes: readonly string[];
  /** Signs put and delete (week 8 envelope, `msg_type` `kv`). */
  readonly signer: Signer;
  /** Attempts, time budget, backoff and hint hops. Default {@link DEFAULT_CLUSTER_RETRY_POLICY}. */
  readonly policy?: ClusterRetryPolicy;
  /** Give up connecting to one node after this long (`E_NET_CONNECT_TIMEOUT`). Default 1000. */
  readonly connectTimeoutMs?: number;
  /** Give up waiting for one node's reply after this long, or what is left of the budget if less (`E_NET_TIMEOUT`). Default 3000. */
  readonly attemptTimeoutMs?: number;
  /** Stamps envelopes and measures the budget. Default the system clock. */
  readonly clock?: Clock;
  /** Draws the backoff jitter. Default week 2's `systemRandom`. */
  readonly random?: RandomSource;
  /** Draws envelope nonces. Default week 8's `webRandomBytes`. */
  readonly nonces?: RandomBytes;
  /** Names a get sent without a request id, so its attempts can be traced. Default random UUIDs. */
  readonly ids?: IdSource;
  /** Waits out a backoff. Default a `setTimeout` promise. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Parses a `host:port` client address.
 * @throws RangeError when it is not one (a configuration bug)
 */
export function parseNodeAddress(address: string): NetAddress {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(address);
  const port = Number(match?.[3]);
  if (match === null || port < 1 || port > 65535) throw new RangeError(`node address must be host:port, got ${JSON.stringify(address)}`);
  return { host: (match[1] ?? match[2]) as string, port };
}

function isTerm(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * The answering node's current term, or null when the reply does not say it: `node_term`
 * when present, else a refusal's `term`; an ok reply's `term` is its entry's, not the node's.
 */
export function nodeTermOf(reply: ClusterReply): number | null {
  if (reply.node_term !== undefined) return reply.node_term;
  return reply.ok ? null : reply.term;
}

/**
 * Reads a node's answer. It must be strict JSON with a boolean `ok`, an integer `term`
 * and a string `node`, a string `code` when `ok` is false, and an integer `node_term` if any.
 * @throws {@link CivicError} `E_CLIENT_REPLY_MALFORMED` otherwise
 */
export function parseClusterReply(bytes: Uint8Array, from: string): ClusterReply {
  let parsed: unknown;
  try {
    parsed = parseStrictJson(bytes);
  } catch (error) {
    throw fail('E_CLIENT_REPLY_MALFORMED', `Cannot read reply from ${from}: it is not strict JSON`, error);
  }
  const r = parsed as Record<string, unknown> | null;
  const problem =
    typeof r !== 'object' || r === null || Array.isArray(r) ? 'it is not an object'
    : typeof r['ok'] !== 'boolean' ? 'ok is not a boolean'
    : !isTerm(r['term']) ? 'term is not a non-negative integer'
    : r['node_term'] !== undefined && !isTerm(r['node_term']) ? 'node_term is not a non-negative integer'
    : typeof r['node'] !== 'string' ? 'node is not a string'
    : r['ok'] === false && typeof r['code'] !== 'string' ? 'a refusal carries no code'
    : r['leader_addr'] !== undefined && r['leader_addr'] !== null && typeof r['leader_addr'] !== 'string' ? 'leader_addr is not a string'
    : undefined;
  if (problem !== undefined) throw fail('E_CLIENT_REPLY_MALFORMED', `Cannot read reply from ${from}: ${problem}`);
  return r as unknown as ClusterReply;
}

/** Idle connections kept per node: enough for the concurrency one client process drives. */
const MAX_IDLE_PER_NODE = 128;

/** Sends KV commands to a replica cluster, retrying by the week 12 rule and fencing deposed leaders. */
export class ClusterClient {
  readonly #nodes: readonly string[];
  readonly #signer: Signer;
  readonly #policy: ClusterRetryPolicy;
  readonly #connectTimeoutMs: number;
  readonly #attemptTimeoutMs: number;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #nonces: RandomBytes | undefined;
  readonly #ids: IdSource;
  readonly #sleep: (ms: number) => Promise<void>;
  /** Terms only grow, so one fence serves every request this client sends. */
  readonly #fence = new TermFence();
  /** The node that last answered ok: the first one tried next time. */
  #leader: string | undefined;
  /** Connections that answered and wait for the next request, per node. */
  readonly #idle = new Map<string, Socket[]>();

  /** @param options - the cluster, the signer, and the injectable budget, time and randomness */
  constructor(options: ClusterClientOptions) {
    if (options.nodes.length === 0) throw new RangeError('nodes must name at least one node');
    for (const node of options.nodes) parseNodeAddress(node);
    this.#nodes = [...options.nodes];
    this.#signer = options.signer;
    this.#policy = options.policy ?? DEFAULT_CLUSTER_RETRY_POLICY;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 1000;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 3000;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? systemRandom;
    this.#nonces = options.nonces;
    this.#ids = options.ids ?? randomIds;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** The highest node term any reply has reported (the fence). */
  get highestTerm(): number {
    return this.#fence.highest;
  }

  /**
   * Sends one KV request until the cluster answers it or the budget runs out. Never
   * throws for a cluster failure: the result carries the reply or the reason it gave up.
   * @param request - a put, delete or get; a get without a request id is given one for the trace
   * @returns the final reply or error, and the trace of attempts
   * @throws {@link CivicError} `E_ENVELOPE_MALFORMED` from the signer for a bad request id
   */
  async send(request: KvRequest): Promise<ClusterResult> {
    const requestId = request.request_id ?? this.#ids.next();
    const command: KvRequest = { ...request, request_id: requestId };
    const payload = kvPayload(command);
    const startedMs = this.#clock.now();
    const attempts: AttemptOutcome[] = [];
    const trace: AttemptTrace[] = [];
    let node = this.#leader ?? (this.#nodes[0] as string);
    for (;;) {
      const attemptStart = this.#clock.now();
      // #region fresh-envelope
      // A fresh envelope per attempt: a resent one would be refused by the node's replay cache.
      const frame = isKvCommand(command) ? await this.#signed(requestId, payload) : payload;
      // #endregion fresh-envelope
      let reply: ClusterReply | null = null;
      let error: unknown = null;
      try {
        // An attempt never outlives the whole budget: the last one gets what is left of it.
        const leftMs = Math.max(1, startedMs + this.#policy.maxTotalMs - attemptStart);
        reply = parseClusterReply(await this.#exchange(node, frame, Math.min(this.#attemptTimeoutMs, leftMs)), node);
        const nodeTerm = nodeTermOf(reply);
        if (nodeTerm !== null) this.#fence.check(nodeTerm, `answer from ${reply.node} at ${node}`);
      } catch (caught) {
        if (!isCivicError(caught)) throw caught; // an unexpected errno: a bug to report, not a retry
        error = caught;
      }
      const fenced = error !== null && (error as CivicError).code === 'E_FENCED_STALE_TERM';
      const code = error !== null ? (error as CivicError).code : reply?.ok === true ? null : (reply as { code: string }).code;
      const leaderAddr = !fenced && reply !== null && reply.ok === false ? (reply.leader_addr ?? null) : null;
      attempts.push({ node, requestId, code, leader: leaderAddr });
      const decision = decideRetry({ nodes: this.#nodes, requestId, startedMs, attempts, policy: this.#policy }, { clock: this.#clock, random: this.#random });
      trace.push({
        attempt: attempts.length, node, request_id: requestId, started_ms: attemptStart, elapsed_ms: this.#clock.now() - attemptStart,
        code, term: reply === null ? null : (nodeTermOf(reply) ?? reply.term), replier: reply?.node ?? null, leader_addr: leaderAddr, decision,
      });
      if (decision.action === 'stop') {
        if (decision.reason === 'answered') this.#leader = node;
        if (decision.reason === 'answered' || decision.reason === 'refused' || decision.reason === 'protocol') {
          // The answer or a refusal the cluster made on purpose; else a local failure no retry fixes
          // (an unreadable reply, an address that does not resolve).
          return error === null ? { reply, error: null, trace } : { reply: null, error: error as CivicError, trace };
        }
        const why = decision.reason === 'deadline' ? `the ${this.#policy.maxTotalMs} ms budget ran out` : `all ${this.#policy.maxAttempts} attempts were used`;
        const giveUp = decision.reason === 'deadline' ? 'E_CLIENT_DEADLINE' : 'E_CLIENT_RETRIES_EXHAUSTED';
        return { reply: null, error: fail(giveUp, `Cannot complete ${command.op} ${requestId}: ${why} (last: ${code ?? 'ok'} from ${node})`, error ?? undefined), trace };
      }
      if (decision.delayMs > 0) await this.#sleep(decision.delayMs);
      node = decision.node;
    }
  }

  async #signed(requestId: string, payload: Uint8Array): Promise<Uint8Array> {
    const options = this.#nonces === undefined ? { clock: this.#clock } : { clock: this.#clock, random: this.#nonces };
    const envelope = await signEnvelope({ msgType: KV_MSG_TYPE, requestId, payload }, this.#signer, options);
    return encodeSignedMessage(envelope, payload);
  }

  // #region exchange
  /**
   * One frame out, one frame back, on an idle connection to `node` kept from an earlier
   * exchange (one request at a time on each) or a fresh one. A connection that answered is
   * kept for the next exchange, unref'd so it never holds the process open; any failure
   * destroys it.
   * @throws {@link CivicError} `E_NET_REFUSED`/`E_NET_UNREACHABLE`/`E_NET_CONNECT_TIMEOUT`
   *   (definite), `E_NET_RESET`/`E_NET_CLOSED`/`E_NET_TIMEOUT` (indefinite), `E_FRAME_OVERSIZE`
   */
  #exchange(node: string, frame: Uint8Array, replyTimeoutMs: number): Promise<Uint8Array> {
    const address = parseNodeAddress(node);
    return new Promise<Uint8Array>((resolve, reject) => {
      const kept = this.#takeIdle(node);
      const socket: Socket = kept ?? connect({ host: address.host, port: address.port, noDelay: true });
      const decoder = new FrameDecoder({ maxFrameBytes: MAX_KV_FRAME_BYTES });
      let connected = kept !== undefined;
      let timer: Timer;
      const release = (): void => {
        clearTimeout(timer);
        socket.removeAllListeners();
      };
      const finish = (outcome: () => void): void => {
        release();
        socket.on('error', () => {}); // late errors of a socket we are done with
        socket.destroy();
        outcome();
      };
      const arm = (ms: number, error: () => unknown): void => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(() => reject(error())), ms);
      };
      const send = (): void => {
        connected = true;
        arm(replyTimeoutMs, () => failNetwork('E_NET_TIMEOUT', `Cannot get reply from ${formatAddress(address)}: none within ${replyTimeoutMs} ms`));
        socket.write(encodeFrame(frame, MAX_KV_FRAME_BYTES));
      };
      socket.on('data', (chunk: Uint8Array) => {
        let frames: Uint8Array[];
        try {
          frames = decoder.push(chunk);
        } catch (error) {
          finish(() => reject(error));
          return;
        }
        const [reply] = frames;
        if (reply === undefined) return;
        if (frames.length > 1 || decoder.pendingBytes > 0) {
          finish(() => resolve(reply)); // more than one answer to one request: do not reuse
          return;
        }
        release();
        this.#keepIdle(node, socket);
        resolve(reply);
      });
      socket.on('error', (error) => finish(() => reject(connectError(error, address, connected ? 'io' : 'connect'))));
      socket.on('close', () => finish(() => reject(failNetwork('E_NET_CLOSED', `Cannot get reply from ${formatAddress(address)}: it closed the connection first`))));
      if (kept !== undefined) {
        socket.ref();
        send();
      } else {
        arm(this.#connectTimeoutMs, () => failNetwork('E_NET_CONNECT_TIMEOUT', `Cannot connect to ${formatAddress(address)}: no answer within ${this.#connectTimeoutMs} ms`));
        socket.once('connect', send);
      }
    });
  }

  /** An idle, open connection to `node`, or undefined. */
  #takeIdle(node: string): Socket | undefined {
    const idle = this.#idle.get(node);
    for (let socket = idle?.pop(); socket !== undefined; socket = idle?.pop()) {
      if (!socket.destroyed && socket.readyState === 'open') {
        socket.removeAllListeners();
        return socket;
      }
    }
    return undefined;
  }

  /** Keeps a connection that just answered, unless enough are idle already; a peer close while idle drops it. */
  #keepIdle(node: string, socket: Socket): void {
    const idle = this.#idle.get(node) ?? [];
    this.#idle.set(node, idle);
    if (idle.length >= MAX_IDLE_PER_NODE) {
      socket.destroy();
      return;
    }
    socket.unref();
    const drop = (): void => {
      socket.destroy();
      const at = idle.indexOf(socket);
      if (at >= 0) idle.splice(at, 1);
    };
    socket.once('close', drop);
    socket.once('end', drop); // the node half-closed it: it will take no more requests
    socket.once('error', drop);
    socket.once('data', drop); // nothing may arrive on an idle connection
    idle.push(socket);
  }

  /** Closes every idle connection (a client about to be dropped; in-flight requests finish on their own). */
  close(): void {
    for (const idle of this.#idle.values()) for (const socket of idle.splice(0)) socket.destroy();
  }
  // #endregion exchange
}
