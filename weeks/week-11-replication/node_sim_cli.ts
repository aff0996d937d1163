/**
 * The seed sweep as a command: runs the deterministic Raft simulator over a range of
 * seeds, checks every invariant and each client history's linearizability, prints
 * progress on stderr and a summary on stdout, and on a failure prints the seed and the
 * exact command that replays it (exit 1).
 *
 * ```text
 * node --import tsx weeks/week-11-replication/node_sim_cli.ts --seeds N [--from S] [--nodes 3|5] [--ticks T] [--json]
 * ```
 * @module
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT } from '../../lib/errors.ts';
import { checkOperations, kvModel } from './linearizability.ts';
import { runSeed } from './sim.ts';

/** What a sweep found. */
export interface SweepSummary {
  /** The first seed run. */
  readonly from: number;
  /** Seeds run. */
  readonly seeds: number;
  /** Cluster size. */
  readonly nodes: number;
  /** Ticks of faults per seed before healing. */
  readonly ticks: number;
  /** Seeds that failed, each with its error code and replay command. */
  readonly failures: readonly SweepFailure[];
  /** Client operations checked for linearizability, over every seed. */
  readonly operations: number;
  /** Wall-clock seconds the sweep took. */
  readonly seconds: number;
  /** Seeds per second. */
  readonly seedsPerSecond: number;
}

/** One failed seed. */
export interface SweepFailure {
  /** The seed. */
  readonly seed: number;
  /** The error code (`E_RAFT_SAFETY`, `E_RAFT_STALLED`, or `E_NOT_LINEARIZABLE` for a history the checker refused). */
  readonly code: string;
  /** What broke. */
  readonly message: string;
  /** The command that replays exactly this seed. */
  readonly replay: string;
}

const USAGE = 'usage: node --import tsx weeks/week-11-replication/node_sim_cli.ts --seeds N [--from S] [--nodes 3|5] [--ticks T] [--json]';

function replayCommand(seed: number, nodes: number, ticks: number): string {
  return `node --import tsx weeks/week-11-replication/node_sim_cli.ts --seeds 1 --from ${seed} --nodes ${nodes} --ticks ${ticks}`;
}

/**
 * Runs seeds `from` … `from + seeds - 1`, reporting progress through `progress`.
 * @returns the summary; `failures` is empty when every seed held
 */
export function sweep(options: { readonly from: number; readonly seeds: number; readonly nodes: number; readonly ticks: number }, progress: (line: string) => void): SweepSummary {
  const { from, seeds, nodes, ticks } = options;
  const failures: SweepFailure[] = [];
  let operations = 0;
  const started = performance.now();
  for (let seed = from; seed < from + seeds; seed++) {
    try {
      const result = runSeed(seed, { nodes, ticks });
      operations += result.history.length;
      const verdict = checkOperations(kvModel, result.history, { maxSteps: 1_000_000 }).verdict;
      if (verdict === 'illegal') {
        failures.push({ seed, code: 'E_NOT_LINEARIZABLE', message: 'the client history has no linearization', replay: replayCommand(seed, nodes, ticks) });
      }
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      failures.push({
        seed, code: typeof code === 'string' ? code : 'E_INTERNAL', message: error instanceof Error ? error.message : String(error),
        replay: replayCommand(seed, nodes, ticks),
      });
    }
    const done = seed - from + 1;
    if (done % 100 === 0 || done === seeds) progress(`${done}/${seeds} seeds, ${failures.length} failed`);
  }
  const seconds = (performance.now() - started) / 1000;
  return { from, seeds, nodes, ticks, failures, operations, seconds, seedsPerSecond: seconds > 0 ? seeds / seconds : seeds };
}

function main(argv: readonly string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv], strict: true, allowPositionals: false,
      options: { seeds: { type: 'string' }, from: { type: 'string' }, nodes: { type: 'string' }, ticks: { type: 'string' }, json: { type: 'boolean' } },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const seeds = Number(values.seeds);
  const from = Number(values.from ?? 1);
  const nodes = Number(values.nodes ?? 3);
  const ticks = Number(values.ticks ?? 300);
  if (!Number.isSafeInteger(seeds) || seeds < 1 || !Number.isSafeInteger(from) || (nodes !== 3 && nodes !== 5) || !Number.isSafeInteger(ticks) || ticks < 1) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT.usage;
  }
  const summary = sweep({ from, seeds, nodes, ticks }, (line) => process.stderr.write(`${line}\n`));
  if (values.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(`${summary.seeds} seeds (${summary.from}..${summary.from + summary.seeds - 1}), ${summary.nodes} nodes, ${summary.ticks} ticks each: `
      + `${summary.failures.length} failed, ${summary.operations} client operations checked, ${summary.seedsPerSecond.toFixed(1)} seeds/s\n`);
    for (const f of summary.failures) process.stdout.write(`FAIL seed ${f.seed}: ${f.code} ${f.message}\n  replay: ${f.replay}\n`);
  }
  return summary.failures.length === 0 ? EXIT.ok : EXIT.negative;
}

// Run only as the entry point, so a test or a barrel can import sweep() without side effects.
const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) process.exitCode = main(process.argv.slice(2));
