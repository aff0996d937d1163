/**
 * The CivicTrust node of month 2: one process that serves week 6's overload-controlled
 * task protocol and accepts only week 8 signed envelopes.
 *
 * ```
 *  socket ─▶ frame decoder (≤ 65 KiB, minimum progress, connection cap)          main thread
 *          ─▶ gate.tryOpen: precheck (shape, version, signed?, key known,         main thread,
 *               window, key validity, nonce unseen, payload hash, msg_type)       owns the nonce cache
 *               └─ refused: E_SIG_MISSING, E_KEY_UNKNOWN, E_REPLAY, … answered at once
 *          ─▶ controller.offer: deadline (admission) ─▶ ladder: normal/shed/reject
 *               └─ refused: E_SHED_LOW_PRIORITY / E_OVERLOADED with retry_after_ms
 *          ─▶ waiting queue (≤ 32, swept for deadlines)
 *          ─▶ worker slot: authorize = Ed25519 verify (WebCrypto: libuv's threads)
 *               then record the nonce (main thread)  └─ E_SIG_INVALID, E_REPLAY
 *          ─▶ week 5 worker pool: the task, deadline checked in the worker
 *          ─▶ reply stage deadline, egress token bucket, write() backpressure
 * ```
 *
 * Where verification happens, and why:
 *
 * - **The cheap checks run on the main thread, first.** They are parsing, map lookups
 *   and one SHA-256 over at most 64 KiB. The nonce cache lives on the main thread and
 *   is read and written only there, so it needs no lock and no copy.
 * - **Admission comes before any curve math.** Everything in a frame is a claim until
 *   the signature verifies, so a flood of well-formed junk must not be able to buy
 *   Ed25519 verifications past the ladder's reject line. The verification is the gate's
 *   `authorize` step, which the controller runs only for an admitted request, inside
 *   one of its `concurrency` slots: the ladder's queue bounds the verifications waiting,
 *   the slots bound those running, and a request dropped for its deadline in the queue
 *   is never verified at all.
 * - **The curve math runs off the event loop.** With the default `webcrypto` backend,
 *   `crypto.subtle.verify` runs on libuv's thread pool and the main thread only awaits
 *   it; `node` (synchronous `node:crypto`) and `noble` are there for comparison. The
 *   worker pool (week 5) is not used for it: a parsed key cannot cross a thread
 *   boundary, so each task would re-import the key, and week 8 measured WebCrypto at
 *   nearly `node:crypto`'s speed.
 * - **The nonce is recorded only after the signature verifies**, on the main thread,
 *   by week 8's `complete`; of two copies verified at once, the second loses there.
 * - **A claimed priority is trusted for admission before it is verified.** A forger can
 *   pass `shed` with `high`, but pays with a refused signature and gains no work; past
 *   the reject line nothing is verified.
 *
 * `/healthz` and `/metrics` (Prometheus text) are served by one small `node:http`
 * listener here: week 4's `HealthServer` answers only `/healthz` from a synchronous
 * report, and prom-client's exposition is asynchronous, so a dozen lines beside it
 * are cheaper than changing week 4. Pool metrics come from week 5's
 * `registerPoolMetrics` on the same registry.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Clock, IdSource } from '../../lib/clock.ts';
import { formatAddress, isRequestId, listenError, preciseClock, type Logger, type NetAddress } from '../../lib/framing.ts';
import { REQUEST_ID_HEADER } from '../../lib/http.ts';
import { OverloadServer, TASK_HANDLERS, type AnswerEvent, type OverloadServerOptions, type OverloadServerStats } from '../../lib/overload.ts';
import { WorkerPool, registerPoolMetrics } from '../../lib/pool.ts';
import { LatencyHistogram } from '../../lib/server.ts';
import { errorFactory } from '../../lib/errors.ts';
import {
  DEFAULT_REPLAY_POLICY, DurableNonceCache, EnvelopeVerifier, NonceCache, SIGN_ERRORS, WEBCRYPTO_BACKEND, loadKeyRing,
  type Ed25519Backend, type KeyRing, type ReplayPolicy, type VerifierStats,
} from '../../lib/signing.ts';
import { MAX_SIGNED_FRAME_BYTES, signedTaskGate } from './signed_task.ts';

/** What the week 6 server takes that the node passes through unchanged. */
type ServerTuning = Pick<OverloadServerOptions, 'thresholds' | 'maxClients' | 'progress' | 'egressRate' | 'egressLimits' | 'maxInFlight' | 'idleMs' | 'statsIntervalMs'>;

/** Options of {@link SignedNode.start}. */
export interface SignedNodeOptions extends ServerTuning {
  /** A key directory (its `keyring.json`) or a `keyring.json` path: the keys the node trusts. */
  readonly keys: string;
  /** The Ed25519 backend that verifies. Default WebCrypto (off the event loop). */
  readonly backend?: Ed25519Backend;
  /** The address to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** The task port; 0 lets the kernel choose. Default 0. */
  readonly port?: number;
  /** The `/healthz` and `/metrics` port; undefined for none, 0 for any. */
  readonly healthPort?: number;
  /** Worker threads, and so tasks run at once. Default 2. */
  readonly workers?: number;
  /** The replay window and nonce capacity. Default week 8's. */
  readonly replay?: ReplayPolicy;
  /**
   * A directory for the durable nonce store (week 8's `DurableNonceCache`): every
   * accepted nonce is synced there before its request runs and reloaded on start, so a
   * restart cannot reopen the replay window. Undefined keeps nonces in memory only,
   * which a restart forgets.
   */
  readonly dataDir?: string;
  /** Where records go. */
  readonly logger: Logger;
  /** Ids for HTTP requests that bring none. */
  readonly ids: IdSource;
  /** The clock of the verifier's window. Default `preciseClock`. */
  readonly clock?: Clock;
}

/** Answers by outcome, since start. */
export interface AnswerCounts {
  /** Tasks run and answered with a result. */
  readonly ok: number;
  /** Refusals, drops and failures, by code. */
  readonly refused: Readonly<Record<string, number>>;
}

/** A snapshot of the node. */
export interface SignedNodeStats {
  /** Week 6's server and controller. */
  readonly server: OverloadServerStats;
  /** Week 8's verifier: accepted, refused by code, curve checks run. */
  readonly verifier: VerifierStats;
  /** Every answer sent, by outcome. */
  readonly answers: AnswerCounts;
  /** Nonces remembered now. */
  readonly nonces: number;
  /** Key ids trusted. */
  readonly keyIds: readonly string[];
}

const LEVEL_RANK = { normal: 0, shed: 1, reject: 2 } as const;
const signFail = errorFactory(SIGN_ERRORS);

/** The signed, overload-controlled CivicTrust node. */
export class SignedNode {
  readonly #server: OverloadServer;
  readonly #pool: WorkerPool;
  readonly #verifier: EnvelopeVerifier;
  readonly #replay: NonceCache;
  readonly #keys: KeyRing;
  #http: Server | undefined;
  readonly #registry: Registry;
  readonly #answers: { ok: number; refused: Record<string, number> };
  readonly #latency: { ok: LatencyHistogram; refused: LatencyHistogram };
  readonly #logger: Logger;
  #draining = false;

  private constructor(parts: {
    server: OverloadServer; pool: WorkerPool; verifier: EnvelopeVerifier; replay: NonceCache; keys: KeyRing; http: Server | undefined; registry: Registry;
    answers: { ok: number; refused: Record<string, number> }; latency: { ok: LatencyHistogram; refused: LatencyHistogram }; logger: Logger;
  }) {
    this.#server = parts.server;
    this.#pool = parts.pool;
    this.#verifier = parts.verifier;
    this.#replay = parts.replay;
    this.#keys = parts.keys;
    this.#http = parts.http;
    this.#registry = parts.registry;
    this.#answers = parts.answers;
    this.#latency = parts.latency;
    this.#logger = parts.logger;
  }

  /**
   * Loads the trusted keys, starts the worker pool, binds the task port and, if asked,
   * the HTTP port.
   * @throws {@link CivicError} `E_KEY_*` for a bad or empty key ring, `E_NET_*` when binding fails
   */
  static async start(options: SignedNodeOptions): Promise<SignedNode> {
    const clock = options.clock ?? preciseClock;
    const logger = options.logger;
    const keys = await loadKeyRing(options.keys, options.backend ?? WEBCRYPTO_BACKEND);
    // A node that trusts no key would refuse every request: refuse to start instead.
    if (keys.records().length === 0) throw signFail('E_KEY_NOT_FOUND', `Cannot start node: ${options.keys} holds no trusted key (no keyring.json, or an empty one)`);
    const policy = options.replay ?? DEFAULT_REPLAY_POLICY;
    const replay = options.dataDir === undefined ? new NonceCache(policy) : DurableNonceCache.open(options.dataDir, clock.now(), policy);
    const verifier = new EnvelopeVerifier({ keys, replay, clock, maxMessageBytes: MAX_SIGNED_FRAME_BYTES });
    const workers = options.workers ?? 2;
    const answers = { ok: 0, refused: {} as Record<string, number> };
    const latency = { ok: new LatencyHistogram(), refused: new LatencyHistogram() };
    const onAnswer = (event: AnswerEvent): void => {
      if (event.ok) answers.ok += 1;
      else answers.refused[event.errorCode ?? 'unknown'] = (answers.refused[event.errorCode ?? 'unknown'] ?? 0) + 1;
      (event.ok ? latency.ok : latency.refused).record(Math.max(0, event.latencyMs));
      const result = event.ok ? 'ok' : event.errorCode === 'E_DEADLINE_EXCEEDED' ? 'dropped' : 'refused';
      logger.log(event.ok ? 'info' : 'warn', 'request answered', {
        requestId: event.requestId,
        fields: {
          result, latency_ms: Math.round(event.latencyMs * 1000) / 1000,
          ...(event.errorCode === undefined ? {} : { error_code: event.errorCode }),
          ...(event.stage === undefined ? {} : { stage: event.stage }),
          ...(event.retryAfterMs === undefined ? {} : { retry_after_ms: event.retryAfterMs }),
        },
      });
    };
    // The controller hands the pool at most `workers` tasks at once; its queue only absorbs a hand-over.
    const pool = await WorkerPool.start({ workers, maxQueue: workers * 2, taskBudgetMs: 30_000, handlers: TASK_HANDLERS });
    let server: OverloadServer | undefined;
    try {
      server = await OverloadServer.listen({
        thresholds: options.thresholds, maxClients: options.maxClients, progress: options.progress, egressRate: options.egressRate,
        egressLimits: options.egressLimits, maxInFlight: options.maxInFlight, idleMs: options.idleMs, statsIntervalMs: options.statsIntervalMs,
        host: options.host, port: options.port, runner: pool, concurrency: workers, logger, maxFrameBytes: MAX_SIGNED_FRAME_BYTES,
        gate: signedTaskGate(verifier), onAnswer,
      });
      const registry = new Registry();
      const node: SignedNode = new SignedNode({ server, pool, verifier, replay, keys, http: undefined, registry, answers, latency, logger });
      node.#registerMetrics(registry);
      if (options.healthPort !== undefined) {
        node.#http = await listenHttp(options.host ?? '127.0.0.1', options.healthPort, (req, res) => node.#answerHttp(req, res, clock, options.ids));
      }
      return node;
    } catch (error) {
      await server?.close({ reason: 'start_failed', graceMs: 0 });
      await pool.close();
      if (replay instanceof DurableNonceCache) replay.close();
      throw error;
    }
  }

  /** The task port's address. */
  get address(): NetAddress {
    return this.#server.address;
  }

  /** The HTTP listener's address, if there is one. */
  get httpAddress(): NetAddress | undefined {
    const bound = this.#http?.address() as AddressInfo | null | undefined;
    return bound === undefined || bound === null ? undefined : { host: bound.address, port: bound.port };
  }

  /** A snapshot of the server, the verifier and the answers. */
  stats(): SignedNodeStats {
    return {
      server: this.#server.stats(), verifier: this.#verifier.stats(),
      answers: { ok: this.#answers.ok, refused: { ...this.#answers.refused } },
      nonces: this.#replay.size, keyIds: this.#keys.records().map((r) => r.key_id),
    };
  }

  /** The Prometheus exposition text of every metric. */
  metrics(): Promise<string> {
    return this.#registry.metrics();
  }

  /**
   * Drains: stops accepting, lets admitted requests finish and their answers go out
   * (up to `graceMs`), then closes the HTTP port and the worker pool.
   */
  async close(options: { reason: string; graceMs: number }): Promise<void> {
    this.#draining = true;
    await this.#server.close(options);
    await new Promise<void>((resolve) => {
      if (this.#http === undefined) return resolve();
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
    await this.#pool.close();
    if (this.#replay instanceof DurableNonceCache) this.#replay.close();
  }

  /** Registers the node's metrics beside the pool's. Each reads the live counters when scraped. */
  #registerMetrics(registry: Registry): void {
    registerPoolMetrics(this.#pool, { registry });
    const registers = [registry];
    const node = this;
    new Counter({
      name: 'civictrust_node_requests_total', help: 'Answers sent, by result and error code', labelNames: ['result', 'code'], registers,
      collect() {
        this.reset();
        this.inc({ result: 'ok', code: '' }, node.#answers.ok);
        for (const [code, n] of Object.entries(node.#answers.refused)) this.inc({ result: code === 'E_DEADLINE_EXCEEDED' ? 'dropped' : 'refused', code }, n);
      },
    });
    new Counter({
      name: 'civictrust_node_verify_total', help: 'Signed-envelope verdicts of the verifier, by outcome and code', labelNames: ['outcome', 'code'], registers,
      collect() {
        this.reset();
        const s = node.#verifier.stats();
        this.inc({ outcome: 'accepted', code: '' }, s.accepted);
        for (const [code, n] of Object.entries(s.rejected)) this.inc({ outcome: 'rejected', code }, n);
      },
    });
    new Counter({
      name: 'civictrust_node_curve_checks_total', help: 'Ed25519 verifications run (refusals before admission cost none)', registers,
      collect() { this.reset(); this.inc(node.#verifier.stats().curveChecks); },
    });
    new Gauge({
      name: 'civictrust_node_nonces', help: 'Nonces remembered by the replay cache', registers,
      collect() { this.set(node.#replay.size); },
    });
    new Gauge({
      name: 'civictrust_node_ladder_level', help: 'The overload ladder: 0 normal, 1 shed, 2 reject', registers,
      collect() { this.set(LEVEL_RANK[node.#server.stats().controller.level]); },
    });
    new Counter({
      name: 'civictrust_node_ladder_changes_total', help: 'Overload ladder level changes', registers,
      collect() { this.reset(); this.inc(node.#server.stats().controller.levelChanges); },
    });
    new Gauge({
      name: 'civictrust_node_queue_depth', help: 'Admitted requests waiting for a worker slot', registers,
      collect() { this.set(node.#server.stats().controller.depth); },
    });
    new Counter({
      name: 'civictrust_node_overload_refused_total', help: 'Requests refused by the ladder, by code', labelNames: ['code'], registers,
      collect() {
        this.reset();
        for (const [code, n] of Object.entries(node.#server.stats().controller.refused)) this.inc({ code }, n);
      },
    });
    new Counter({
      name: 'civictrust_node_deadline_dropped_total', help: 'Requests dropped for their deadline, by stage', labelNames: ['stage'], registers,
      collect() {
        this.reset();
        for (const [stage, n] of Object.entries(node.#server.stats().controller.dropped)) this.inc({ stage }, n ?? 0);
      },
    });
    new Counter({
      name: 'civictrust_node_connections_cut_total', help: 'Connections closed by a defence or otherwise, by reason', labelNames: ['reason'], registers,
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(node.#server.stats().closedByReason)) this.inc({ reason }, n ?? 0);
      },
    });
    new Gauge({
      name: 'civictrust_node_request_seconds', help: 'Answer latency from first byte, by result and quantile', labelNames: ['result', 'quantile'], registers,
      collect() {
        this.reset();
        for (const [result, histogram] of Object.entries(node.#latency)) {
          if (histogram.count === 0) continue;
          for (const q of [0.5, 0.95, 0.99]) this.set({ result, quantile: String(q) }, (histogram.percentile(q * 100) ?? 0) / 1000);
        }
      },
    });
  }

  /** `/healthz` (JSON live figures) and `/metrics` (Prometheus text); anything else 404. */
  #answerHttp(req: IncomingMessage, res: ServerResponse, clock: Clock, ids: IdSource): void {
    const started = clock.now();
    const offered = req.headers[REQUEST_ID_HEADER.toLowerCase()];
    const requestId = typeof offered === 'string' && isRequestId(offered) ? offered : ids.next();
    const path = (req.url ?? '').split('?')[0] ?? '';
    const finish = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, [REQUEST_ID_HEADER]: requestId, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
      this.#logger.info('http request', { requestId, fields: { result: status < 400 ? 'ok' : 'error', method: req.method ?? '?', path, status, latency_ms: Math.round((clock.now() - started) * 1000) / 1000 } });
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return finish(405, 'application/json', '{"error":"method_not_allowed"}\n');
    if (path === '/healthz') {
      const s = this.stats();
      const body = {
        status: this.#draining ? 'draining' : 'ok', ladder: s.server.controller.level, connections: s.server.connections,
        depth: s.server.controller.depth, answered_ok: s.answers.ok, refused: s.answers.refused, curve_checks: s.verifier.curveChecks,
        nonces: s.nonces, keys: s.keyIds,
      };
      return finish(this.#draining ? 503 : 200, 'application/json', `${JSON.stringify(body)}\n`);
    }
    if (path === '/metrics') {
      this.#registry.metrics().then(
        (text) => finish(200, this.#registry.contentType, text),
        (error: unknown) => finish(500, 'text/plain', `${String(error)}\n`),
      );
      return;
    }
    finish(404, 'application/json', `${JSON.stringify({ error: 'not_found', path })}\n`);
  }
}

/** Binds a `node:http` server. */
async function listenHttp(host: string, port: number, handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(listenError(error, { host, port })));
    server.listen(port, host, () => resolve());
  });
  return server;
}

/** The URL of a path on the node's HTTP listener. */
export function nodeUrl(address: NetAddress, path: '/healthz' | '/metrics'): string {
  return `http://${formatAddress(address)}${path}`;
}
