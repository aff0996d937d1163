/**
 * The CLI contract, as data: what a command looks like, what it may read and write,
 * and how help is rendered. Every week adds command groups of this shape; the Node
 * adapter in `node_cli.ts` parses argv and runs them.
 * @module
 */
import type { Clock, IdSource } from './clock.ts';
import { EXIT, errorFactory, type ErrorCatalog, type ExitCode } from './errors.ts';
import { LOG_ERRORS } from './catalog.ts';

const fail = errorFactory(LOG_ERRORS);

/** One flag of a command. */
export interface FlagSpec {
  /** The long name, without dashes: `file` for `--file`. */
  readonly name: string;
  /** A one-letter alias, without the dash. */
  readonly short?: string;
  /** `string` flags take a value; `boolean` flags are switches. */
  readonly type: 'string' | 'boolean';
  /** The value's placeholder in help, e.g. `PATH`. */
  readonly value?: string;
  /** May be given more than once (values collected in order). */
  readonly multiple?: boolean;
  /** The command cannot run without it. */
  readonly required?: boolean;
  /** One line of help. */
  readonly help: string;
}

/** The parsed command line handed to a command. */
export interface CommandArgs {
  /** Flag values by long name; absent flags are missing. */
  readonly flags: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
  /** The positional arguments after the verb. */
  readonly positionals: readonly string[];
}

/** Everything a command may touch besides its arguments: injected, so tests see all of it. */
export interface CliIo {
  /** Writes data (the command's output) to standard output. */
  stdout(text: string): void;
  /** Writes diagnostics and errors to standard error. */
  stderr(text: string): void;
  /** Standard input, as chunks of bytes. */
  stdin(): AsyncIterable<Uint8Array>;
  /** The clock records are stamped with. */
  readonly clock: Clock;
  /** The source of record ids. */
  readonly ids: IdSource;
}

/** One `civictrust <noun> <verb>` command. */
export interface CommandSpec {
  /** The verb: `append`. */
  readonly verb: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The positional arguments, as shown in usage: `[MESSAGE]`. */
  readonly operands: string;
  /** How many positional arguments the command takes. */
  readonly arity: {
    /** The fewest operands accepted. */
    readonly min: number;
    /** The most operands accepted. */
    readonly max: number;
  };
  /** The flags, besides `--help` which every command has. */
  readonly flags: readonly FlagSpec[];
  /** Further help text: details, exit statuses, examples. */
  readonly details?: string;
  /** Runs the command; resolves to the exit status, throws a CivicError on failure. */
  run(args: CommandArgs, io: CliIo): Promise<ExitCode>;
}

/** The commands of one noun: `civictrust log …`. */
export interface CommandGroup {
  /** The noun: `log`. */
  readonly noun: string;
  /** One line for the top-level help. */
  readonly summary: string;
  /** Its verbs. */
  readonly commands: readonly CommandSpec[];
}

/** The whole CLI: its name, version, groups and the error catalog its codes come from. */
export interface CliSpec {
  /** The program name, `civictrust`. */
  readonly name: string;
  /** Printed by `--version`. */
  readonly version: string;
  /** The command groups, in help order. */
  readonly groups: readonly CommandGroup[];
  /** Every code any command may fail with. */
  readonly catalog: ErrorCatalog;
}

// #region int-flag
/**
 * Reads an integer flag, refusing anything but plain decimal digits in range.
 * `Number('0x10')`, `Number('1e3')` and `Number(' 7 ')` all parse, so digits are
 * checked first.
 * @throws {@link CivicError} `E_USAGE_VALUE` naming the flag and the range
 */
export function intFlag(args: CommandArgs, name: string, range: { min: number; max: number; fallback: number }): number {
  const raw = args.flags[name];
  if (raw === undefined) return range.fallback;
  const value = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= range.min && value <= range.max)) {
    throw fail('E_USAGE_VALUE', `Cannot use --${name} ${String(raw)}: expected a whole number from ${range.min} to ${range.max}`);
  }
  return value;
}
// #endregion int-flag

/** Reads a string flag that may be given once; `undefined` when absent. */
export function stringFlag(args: CommandArgs, name: string): string | undefined {
  const raw = args.flags[name];
  return typeof raw === 'string' ? raw : undefined;
}

/** Reads a repeatable string flag; an empty list when absent. */
export function listFlag(args: CommandArgs, name: string): readonly string[] {
  const raw = args.flags[name];
  return Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
}

/**
 * Reads a flag whose value must be one of a fixed set.
 * @throws {@link CivicError} `E_USAGE_VALUE` listing the allowed values
 */
export function choiceFlag<T extends string>(args: CommandArgs, name: string, choices: readonly T[]): T | undefined {
  const raw = stringFlag(args, name);
  return raw === undefined ? undefined : checkChoice(name, raw, choices);
}

/**
 * Reads a repeatable flag each of whose values must be one of a fixed set; an empty
 * list when absent.
 * @throws {@link CivicError} `E_USAGE_VALUE` naming the first value not allowed
 */
export function choiceListFlag<T extends string>(args: CommandArgs, name: string, choices: readonly T[]): readonly T[] {
  return listFlag(args, name).map((raw) => checkChoice(name, raw, choices));
}

function checkChoice<T extends string>(name: string, raw: string, choices: readonly T[]): T {
  if (!choices.includes(raw as T)) {
    throw fail('E_USAGE_VALUE', `Cannot use --${name} ${raw}: expected one of ${choices.join(', ')}`);
  }
  return raw as T;
}

// #region exit-help
/** One line of help for each exit status, in the order of {@link EXIT}. */
export const EXIT_HELP: Readonly<Record<keyof typeof EXIT, string>> = {
  ok: 'success',
  negative: 'ran, and the answer is no (no match; not verified)',
  usage: 'wrong command line: see --help',
  data: 'invalid input data (empty, too large, malformed, not UTF-8)',
  notFound: 'a path or object does not exist, or is the wrong kind',
  permission: 'access refused by the operating system',
  io: 'an I/O failure: the outcome may be unknown',
  unavailable: 'a service is down or overloaded: retry later',
  integrity: 'stored or received data failed an integrity check',
  internal: 'a bug in civictrust: please report it',
};
// #endregion exit-help

/** The exit-status table as printed in `civictrust --help` and the chapter. */
export function formatExitTable(): string {
  return Object.entries(EXIT)
    .map(([name, code]) => `  ${String(code).padStart(2)}  ${EXIT_HELP[name as keyof typeof EXIT]}`)
    .join('\n');
}

/** The top-level help: commands by group, the exit statuses, where errors go. */
export function formatMainHelp(spec: CliSpec): string {
  const width = Math.max(...spec.groups.flatMap((g) => g.commands.map((c) => g.noun.length + c.verb.length + 1)));
  const commands = spec.groups
    .flatMap((g) => g.commands.map((c) => `  ${`${g.noun} ${c.verb}`.padEnd(width)}  ${c.summary}`))
    .join('\n');
  return [
    `Usage: ${spec.name} <noun> <verb> [flags] [operands]`,
    '',
    'Commands:',
    commands,
    '',
    'Every command takes --help. Data goes to stdout; errors go to stderr as',
    '`error[CODE]: message`, and the exit status says what kind of failure it was:',
    '',
    formatExitTable(),
    '',
  ].join('\n');
}

/** The help of one group: its verbs. */
export function formatGroupHelp(spec: CliSpec, group: CommandGroup): string {
  const width = Math.max(...group.commands.map((c) => c.verb.length));
  const lines = group.commands.map((c) => `  ${c.verb.padEnd(width)}  ${c.summary}`);
  return [`Usage: ${spec.name} ${group.noun} <verb> [flags]`, '', `${group.summary}.`, '', 'Verbs:', ...lines, ''].join('\n');
}

/** The help of one command: usage line, flags, details. */
export function formatCommandHelp(spec: CliSpec, group: CommandGroup, command: CommandSpec): string {
  const flags = [...command.flags, { name: 'help', short: 'h', type: 'boolean', help: 'show this help' } satisfies FlagSpec];
  const label = (f: FlagSpec) => `${f.short === undefined ? '    ' : `-${f.short}, `}--${f.name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`;
  const width = Math.max(...flags.map((f) => label(f).length));
  const lines = flags.map((f) => {
    const notes = [f.required === true ? 'required' : '', f.multiple === true ? 'repeatable' : ''].filter(Boolean);
    return `  ${label(f).padEnd(width)}  ${f.help}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
  });
  const operands = command.operands === '' ? '' : ` ${command.operands}`;
  return [
    `Usage: ${spec.name} ${group.noun} ${command.verb} [flags]${operands}`,
    '',
    `${command.summary}.`,
    '',
    'Flags:',
    ...lines,
    ...(command.details === undefined ? [] : ['', command.details]),
    '',
  ].join('\n');
}
