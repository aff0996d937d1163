/**
 * The Node adapter of the CLI contract: parses argv with `node:util` parseArgs,
 * dispatches to a command, and turns every outcome into exactly one exit status
 * and, on failure, exactly one `error[CODE]: message` line on stderr.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { randomIds, systemClock } from './clock.ts';
import { EXIT, errorFactory, exitCodeOf, formatError, isCivicError, type ExitCode } from './errors.ts';
import { LOG_ERRORS } from './catalog.ts';
import { osError } from './fs_errors.ts';
import { formatCommandHelp, formatGroupHelp, formatMainHelp, type CliIo, type CliSpec, type CommandArgs, type CommandSpec } from './cli.ts';

const fail = errorFactory(LOG_ERRORS);

// #region run-cli
/**
 * Runs one command line to completion. Never throws and never exits the process:
 * the caller decides what to do with the status, so tests can run the CLI in-process.
 * @param argv - the arguments after the program name
 * @returns the exit status from the one table in {@link EXIT}
 */
export async function runCli(argv: readonly string[], spec: CliSpec, io: CliIo): Promise<ExitCode> {
  try {
    const [noun, verb, ...rest] = argv;
    if (noun === '--help' || noun === '-h') return print(io, formatMainHelp(spec));
    if (noun === '--version') return print(io, `${spec.name} ${spec.version}\n`);
    if (noun === undefined) throw fail('E_USAGE_MISSING', `Cannot run: no command given; try ${spec.name} --help`);
    const group = spec.groups.find((g) => g.noun === noun);
    if (group === undefined) throw fail('E_USAGE_COMMAND', `Cannot run "${noun}": no such command; try ${spec.name} --help`);
    if (verb === '--help' || verb === '-h') return print(io, formatGroupHelp(spec, group));
    if (verb === undefined) throw fail('E_USAGE_MISSING', `Cannot run "${noun}": no verb given; try ${spec.name} ${noun} --help`);
    const command = group.commands.find((c) => c.verb === verb);
    if (command === undefined) {
      throw fail('E_USAGE_COMMAND', `Cannot run "${noun} ${verb}": no such verb; try ${spec.name} ${noun} --help`);
    }
    const args = parseCommandLine(command, rest);
    if (args.flags.help === true) return print(io, formatCommandHelp(spec, group, command));
    checkArity(command, args, `${noun} ${verb}`);
    return await command.run(args, io);
  } catch (thrown) {
    // Only catalog codes reach the user: an errno that escaped a command (ENOENT,
    // ECONNREFUSED…) is mapped here, with its path or address, to the catalog's code.
    const error = osError(thrown, spec.catalog);
    const known = isCivicError(error, spec.catalog);
    io.stderr(`${known ? formatError(error) : formatError(new Error(describe(error)))}\n`);
    // A bug is not a CivicError: it gets E_INTERNAL's hint, so every failure has one.
    const action = spec.catalog[known ? error.code : 'E_INTERNAL']?.action;
    if (action !== undefined) io.stderr(`hint: ${action}\n`);
    return exitCodeOf(error, spec.catalog);
  }
}
// #endregion run-cli

/** One line about an uncoded failure, naming its own code if it had one (a bug report needs it). */
function describe(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

function print(io: CliIo, text: string): ExitCode {
  io.stdout(text);
  return EXIT.ok;
}

/** Parses the flags and operands after the verb, mapping parseArgs' errors to catalog codes. */
function parseCommandLine(command: CommandSpec, rest: readonly string[]): CommandArgs {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const flag of command.flags) {
    options[flag.name] = { type: flag.type, ...(flag.short === undefined ? {} : { short: flag.short }), multiple: flag.multiple === true };
  }
  try {
    const { values, positionals } = parseArgs({ args: [...rest], options, strict: true, allowPositionals: true });
    // Multiple-valued flags are all strings (FlagSpec allows multiple only for values).
    return { flags: values as CommandArgs['flags'], positionals };
  } catch (error) {
    // parseArgs' messages are clear; its codes are Node's, so we give them ours.
    const message = error instanceof Error ? error.message : String(error);
    throw fail('E_USAGE_FLAG', `Cannot parse flags: ${message.split('\n')[0]}`, error);
  }
}

function checkArity(command: CommandSpec, args: CommandArgs, name: string): void {
  for (const flag of command.flags) {
    if (flag.required === true && args.flags[flag.name] === undefined) {
      throw fail('E_USAGE_MISSING', `Cannot run "${name}": --${flag.name} is required`);
    }
  }
  const count = args.positionals.length;
  if (count > command.arity.max) {
    throw fail('E_USAGE_EXTRA', `Cannot run "${name}": expected at most ${command.arity.max} operand(s), got ${count}`);
  }
  if (count < command.arity.min) {
    throw fail('E_USAGE_MISSING', `Cannot run "${name}": expected ${command.operands}`);
  }
}

/**
 * The real process's I/O: its standard streams, the system clock and random ids.
 * A closed stdout (`civictrust log read … | head`) ends output quietly instead of
 * crashing.
 */
export function nodeIo(): CliIo {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdin: () => process.stdin,
    clock: systemClock,
    ids: randomIds,
  };
}

/**
 * Runs the CLI as a process: reads `process.argv`, sets `process.exitCode` (never
 * calls `process.exit`, so buffered output is flushed before the process ends).
 */
export async function runMain(spec: CliSpec, io: CliIo = nodeIo()): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), spec, io);
}
