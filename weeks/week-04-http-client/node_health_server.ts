/**
 * The `/healthz` endpoint: a small HTTP listener beside a server's own port, the
 * way production services keep an admin port for probes. It answers one JSON
 * document, echoes the caller's `X-Request-Id`, and logs one record per request
 * carrying that id, so a probe can be followed from the client's log to the server's.
 *
 * The server side uses `node:http`: this week's lesson is the client's parser, and a
 * probe endpoint is exactly what Node's hardened server parser is for.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock, IdSource } from '../../lib/clock.ts';
import { formatAddress, isRequestId, listenError, preciseClock, type Logger, type NetAddress } from '../../lib/framing.ts';
import type { FieldValue } from '../../lib/logger.ts';
import { REQUEST_ID_HEADER } from './node_http_client.ts';

/** What the endpoint reports; `status` decides the HTTP status (200 for `ok`, else 503). */
export interface HealthReport {
  /** `ok` when the server serves requests normally. */
  readonly status: 'ok' | 'degraded' | 'down';
  /** Further flat facts, e.g. `connections`, `uptime_ms`. */
  readonly [fact: string]: FieldValue;
}

/** Options of {@link HealthServer.listen}. */
export interface HealthServerOptions {
  /** The address to bind. Default `127.0.0.1`. */
  readonly host?: string;
  /** The port; 0 lets the kernel choose. Default 0. */
  readonly port?: number;
  /** Called for each probe: the server's state right now. */
  readonly report: () => HealthReport;
  /** One record per request goes here. */
  readonly logger: Logger;
  /** Ids for probes that arrive without a usable `X-Request-Id`. */
  readonly ids: IdSource;
  /** Measures `latency_ms`. Default `preciseClock`. */
  readonly clock?: Clock;
}

/** The path probes ask for. */
export const HEALTH_PATH = '/healthz';

/** A listening `/healthz` endpoint. */
export class HealthServer {
  readonly #server: Server;
  readonly #address: NetAddress;

  private constructor(server: Server, address: NetAddress) {
    this.#server = server;
    this.#address = address;
  }

  /**
   * Binds the address and starts answering probes.
   * @throws {@link CivicError} `E_NET_ADDR_IN_USE`, `E_NET_PERMISSION` or `E_NET_BAD_ADDRESS`
   */
  static async listen(options: HealthServerOptions): Promise<HealthServer> {
    const server = createServer((req, res) => answer(req, res, options));
    const wanted = { host: options.host ?? '127.0.0.1', port: options.port ?? 0 };
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(listenError(error, wanted)));
      server.listen(wanted.port, wanted.host, () => resolve());
    });
    const bound = server.address() as AddressInfo;
    return new HealthServer(server, { host: bound.address, port: bound.port });
  }

  /** Where the endpoint listens. */
  get address(): NetAddress {
    return this.#address;
  }

  /** The probe URL, e.g. `http://127.0.0.1:40123/healthz`. */
  get url(): string {
    return `http://${formatAddress(this.#address)}${HEALTH_PATH}`;
  }

  /** Stops listening and closes idle keep-alive connections. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
  }
}

// #region health-answer
/** Answers one request and logs it with the caller's request id. */
function answer(req: IncomingMessage, res: ServerResponse, options: HealthServerOptions): void {
  const clock = options.clock ?? preciseClock;
  const started = clock.now();
  const offered = req.headers[REQUEST_ID_HEADER.toLowerCase()];
  // A request id is only trusted if it is one header of the documented shape.
  const requestId = typeof offered === 'string' && isRequestId(offered) ? offered : options.ids.next();
  const path = (req.url ?? '').split('?')[0];
  let status: number;
  let body: string;
  if (path !== HEALTH_PATH) {
    [status, body] = [404, JSON.stringify({ error: 'not_found', path })];
  } else if (req.method !== 'GET' && req.method !== 'HEAD') {
    [status, body] = [405, JSON.stringify({ error: 'method_not_allowed' })];
    res.setHeader('Allow', 'GET, HEAD');
  } else {
    const report = options.report();
    [status, body] = [report.status === 'ok' ? 200 : 503, JSON.stringify(report)];
  }
  res.writeHead(status, { 'Content-Type': 'application/json', [REQUEST_ID_HEADER]: requestId, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : `${body}\n`);
  options.logger.info('http request', {
    requestId,
    fields: { method: req.method ?? '', path, status, result: status < 400 ? 'ok' : 'error', latency_ms: Math.round((clock.now() - started) * 100) / 100 },
  });
}
// #endregion health-answer
