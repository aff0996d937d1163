/**
 * The `lin` command group: `civictrust lin check FILE [--model kv|register] [--json]`
 * reads a recorded history (a Porcupine `kv` log or a Jepsen etcd register log) and
 * says whether it is linearizable; when it is not, it names the lines of the longest
 * linearizable prefix, so the operation that cannot follow it is easy to find.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { EXIT, type ExitCode } from '../../lib/errors.ts';
import { choiceFlag, intFlag, type CliIo, type CommandArgs, type CommandGroup } from '../../lib/cli.ts';
import { checkPathSyntax, fsError } from '../../lib/logger.ts';
import { parseJepsenEtcdHistory, parseKvHistory } from './history_formats.ts';
import { checkOperations, createKvModel, registerModel, type CheckResult, type Operation } from './linearizability.ts';

/** The models `lin check --model` accepts, each with the file format it reads. */
const MODELS = ['kv', 'register'] as const;
/** The default `--max-steps`: about half a minute of search on a slow machine. */
const DEFAULT_MAX_STEPS = 10_000_000;

/** Guesses the model from the first event line: an EDN map is a kv log, anything else a Jepsen log. */
function guessModel(text: string): (typeof MODELS)[number] {
  const first = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return first.startsWith('{') ? 'kv' : 'register';
}

/** Parses and checks a history with the named model. */
function check(text: string, model: (typeof MODELS)[number], maxSteps: number): { result: CheckResult; history: readonly Operation<unknown, unknown>[] } {
  if (model === 'kv') {
    // The kv log format reads a never-written key as "" (Porcupine's convention).
    const history = parseKvHistory(text);
    return { result: checkOperations(createKvModel({ initial: '' }), history, { maxSteps }), history };
  }
  const history = parseJepsenEtcdHistory(text);
  return { result: checkOperations(registerModel, history, { maxSteps }), history };
}

/** `lin check FILE`: one verdict, as a line of text or a JSON object. */
async function runCheck(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const file = args.positionals[0] as string;
  checkPathSyntax(file);
  const maxSteps = intFlag(args, 'max-steps', { min: 1, max: 1e15, fallback: DEFAULT_MAX_STEPS });
  const text = await readFile(file, 'utf8').catch((e: unknown) => {
    throw fsError(e, `Cannot read history ${file}`);
  });
  const model = choiceFlag(args, 'model', MODELS) ?? guessModel(text);
  const { result, history } = check(text, model, maxSteps);
  // Times are line numbers, so the prefix is reported as the lines of its invokes.
  const prefixLines = result.prefix?.map((i) => history[i]?.call ?? -1);
  if (args.flags.json === true) {
    io.stdout(`${JSON.stringify({
      file, model, verdict: result.verdict, operations: history.length, partitions: result.partitions, explored: result.explored,
      ...(result.verdict === 'illegal' ? { partition: result.partition, prefix_lines: prefixLines } : {}),
    })}\n`);
  } else {
    const stats = `${history.length} operation(s), ${result.partitions} part(s), ${result.explored} step(s)`;
    const line = result.verdict === 'ok' ? `ok: ${file} is linearizable (${stats})`
      : result.verdict === 'unknown' ? `unknown: ${file} was not decided within --max-steps ${maxSteps} (${stats})`
        : `illegal: ${file} is not linearizable (${stats}); part ${result.partition ?? 0}: longest linearizable prefix invoked on line(s) ${prefixLines?.join(', ') || 'none'}`;
    io.stdout(`${line}\n`);
  }
  return result.verdict === 'ok' ? EXIT.ok : EXIT.negative;
}

/** The `lin` command group: check a recorded history for linearizability. */
export const LIN_COMMANDS: CommandGroup = {
  noun: 'lin',
  summary: 'Linearizability: check a recorded history of a register or a key-value store',
  commands: [
    {
      verb: 'check', summary: 'Check a Jepsen etcd log (register) or a Porcupine kv log (kv) for linearizability',
      operands: 'FILE', arity: { min: 1, max: 1 },
      flags: [
        { name: 'model', type: 'string', value: 'MODEL', help: 'kv (a kv log: get, put, append per key) or register (a Jepsen etcd log: read, write, cas); default: guessed from the first line' },
        { name: 'max-steps', type: 'string', value: 'N', help: `give up with verdict unknown after N search steps (default ${DEFAULT_MAX_STEPS})` },
        { name: 'json', type: 'boolean', help: 'print one JSON object' },
      ],
      details: 'Exits 0 when the history is linearizable, 1 when it is not shown to be (verdict illegal, or unknown when\n--max-steps ran out), 3 with E_LIN_HISTORY_MALFORMED naming the first line that does not parse.',
      run: runCheck,
    },
  ],
};

