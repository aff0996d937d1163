/**
 * A negative control for the slow-sender drill: week 6's own server with its defences
 * taken away. It ignores `socket.write()`'s return value (so Node buffers every reply a
 * non-reader will never read), never cuts a slow sender, never pauses a client, and its
 * ladder never refuses (thresholds far above anything the drill reaches).
 *
 *   node --import tsx testdata/unbounded_server.ts overload serve --port 0 --log PATH
 */
import { runMain } from '../../../lib/cli.ts';
import { OVERLOAD_COMMANDS, WEEK6_CLI, runOverloadServeCommand } from '../node_overload_cli.ts';

const TIB = 2 ** 40;
const NEVER = { enterDepth: 1_000_000, exitDepth: 0, enterWaitMs: 86_400_000, exitWaitMs: 0, retryAfterMs: 1 };
const unbounded = {
  respectBackpressure: false,
  progress: { windowMs: 1000, minBytes: 0 },
  egressLimits: { lowWatermarkBytes: TIB, maxEgressBytes: TIB, noDrainMs: 86_400_000 },
  maxInFlight: 1_000_000,
  maxClients: 100_000,
  thresholds: { shed: NEVER, reject: { ...NEVER, enterDepth: 2_000_000, enterWaitMs: 172_800_000 }, holdMs: 0 },
};
const serve = OVERLOAD_COMMANDS.commands.map((c) => (c.verb === 'serve' ? { ...c, run: (args: Parameters<typeof c.run>[0], io: Parameters<typeof c.run>[1]) => runOverloadServeCommand(args, io, unbounded) } : c));
await runMain({ ...WEEK6_CLI, groups: WEEK6_CLI.groups.map((g) => (g.noun === 'overload' ? { ...g, commands: serve } : g)) });
