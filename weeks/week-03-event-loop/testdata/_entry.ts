/**
 * Shared start-up for the week's deliberately broken test servers: the real
 * FrameServer with some options changed, started from a `server run …` command line
 * (only `--log`, `--stats-interval-ms` and `--node-id` are read), printing
 * `listening HOST:PORT` and stopping cleanly on SIGTERM or SIGINT, like the real one.
 * @module
 */
import { systemClock, randomIds } from '../../../lib/clock.ts';
import { createLogger, formatAddress, openFileSink } from '../../../lib/framing.ts';
import { FrameServer, type FrameServerOptions } from '../node_frame_server.ts';

/** Runs a FrameServer with `options` until a signal; the rest comes from argv. */
export async function serveFromArgs(options: Omit<FrameServerOptions, 'logger'>): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const at = argv.indexOf(`--${name}`);
    return at === -1 ? undefined : argv[at + 1];
  };
  const sink = await openFileSink(flag('log') ?? '/dev/null');
  const logger = createLogger({ clock: systemClock, ids: randomIds, sink: sink.sink, fields: { node_id: flag('node-id') ?? 'test-server' } });
  const server = await FrameServer.listen({ port: 0, statsIntervalMs: Number(flag('stats-interval-ms') ?? 0), ...options, logger });
  process.stdout.write(`listening ${formatAddress(server.address)}\n`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('sigterm'));
    process.once('SIGINT', () => resolve('sigint'));
  });
  await server.close({ reason: signal, graceMs: 1000 });
  await sink.close();
}
