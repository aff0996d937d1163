/**
 * `civictrust server run --health-port N`: week 3's frame server with week 4's
 * `/healthz` endpoint beside it. Week 3's command is reused whole; this module only
 * adds the flag and the sidecar that answers probes from the server's live stats.
 * @module
 */
import type { CliSpec, CommandGroup, CommandSpec, FlagSpec } from '../../lib/cli.ts';
import { LOG_COMMANDS, intFlag, stringFlag } from '../../lib/cli.ts';
import { LOG_ERRORS, mergeCatalogs } from '../../lib/errors.ts';
import { SERVER_COMMANDS, SERVER_ERRORS, runFrameServerCommand, type FrameServer, type ServerSidecar } from '../../lib/server.ts';
import { FRAME_ERRORS, type Logger } from '../../lib/framing.ts';
import type { IdSource } from '../../lib/clock.ts';
import { HTTP_ERRORS } from './catalog.ts';
import { HTTP_COMMANDS } from './node_http_cli.ts';
import { HealthServer, type HealthReport } from './node_health_server.ts';

const HEALTH_PORT: FlagSpec = {
  name: 'health-port', type: 'string', value: 'N',
  help: 'also answer GET /healthz on this port (0 picks a free one; default: no endpoint)',
};

// #region health-report
/** What `/healthz` says about a running frame server. */
export function frameServerHealth(server: FrameServer, startedMs: number, nowMs: number): HealthReport {
  const stats = server.stats();
  return {
    status: 'ok',
    uptime_ms: Math.round(nowMs - startedMs),
    connections: stats.connections,
    requests: stats.requests,
    paused: stats.paused,
    queued_bytes: stats.queuedBytes,
    loop_delay_p99_ms: stats.loopDelay.p99Ms,
  };
}
// #endregion health-report

/** Starts the `/healthz` sidecar when `--health-port` was given. */
async function attachHealth(server: FrameServer, logger: Logger, ids: IdSource, healthPort: number | undefined, host: string): Promise<ServerSidecar | undefined> {
  if (healthPort === undefined) return undefined;
  const started = performance.now();
  const health = await HealthServer.listen({
    host,
    port: healthPort,
    logger,
    ids,
    report: () => frameServerHealth(server, started, performance.now()),
  });
  logger.info('health endpoint listening', { fields: { url: health.url } });
  return { describe: { health: health.url }, close: () => health.close() };
}

const [RUN, ...OTHERS] = SERVER_COMMANDS.commands as [CommandSpec, ...CommandSpec[]];

/** The `server` group of week 3, its `run` verb taking `--health-port`. */
export const SERVER_HEALTH_COMMANDS: CommandGroup = {
  ...SERVER_COMMANDS,
  commands: [
    {
      ...RUN,
      flags: [...RUN.flags, HEALTH_PORT],
      details: `${RUN.details ?? ''}\nWith --health-port, GET /healthz answers the server's live stats as JSON and logs\neach probe with its X-Request-Id; --json then also prints the "health" URL.`,
      run: (args, io) => {
        // Checked before the server binds, so a bad value leaves nothing half started.
        const port = args.flags['health-port'] === undefined ? undefined : intFlag(args, 'health-port', { min: 0, max: 65535, fallback: 0 });
        const host = stringFlag(args, 'host') ?? '127.0.0.1';
        return runFrameServerCommand(args, io, (server, logger) => attachHealth(server, logger, io.ids, port, host));
      },
    },
    ...OTHERS,
  ],
};

/** Week 4's CLI on its own: the logger, the server with `/healthz`, and the HTTP client. */
export const WEEK4_CLI: CliSpec = {
  name: 'civictrust',
  version: 'week-04',
  groups: [LOG_COMMANDS, SERVER_HEALTH_COMMANDS, HTTP_COMMANDS],
  catalog: mergeCatalogs(LOG_ERRORS, FRAME_ERRORS, SERVER_ERRORS, HTTP_ERRORS),
};
