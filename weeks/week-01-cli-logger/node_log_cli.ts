/**
 * `civictrust log append|read|search`: the command group of week 1, built on the
 * record format and the file adapter.
 * @module
 */
import { CivicError, EXIT, errorFactory, isCivicError, type ExitCode } from './errors.ts';
import type { CliSpec } from './cli.ts';
import { readAllCapped } from './bytes.ts';
import { LOG_ERRORS } from './catalog.ts';
import { choiceFlag, intFlag, listFlag, stringFlag, type CliIo, type CommandArgs, type CommandGroup, type FlagSpec } from './cli.ts';
import { appendRecord, readLog, repairTornTail } from './node_log_file.ts';
import { DEFAULT_MAX_RECORD_BYTES, LOG_LEVELS, MAX_RECORD_BYTES_LIMIT, formatRecord, isFieldName, isRequestId, recordToJson, type FieldValue, type LogRecord } from './record.ts';
import { matchRecord, type RecordFilter } from './search.ts';

const fail = errorFactory(LOG_ERRORS);

const FILE: FlagSpec = { name: 'file', short: 'f', type: 'string', value: 'PATH', required: true, help: 'the log file' };
const MAX_BYTES: FlagSpec = {
  name: 'max-bytes', type: 'string', value: 'N',
  help: `largest record in bytes, newline included (default ${DEFAULT_MAX_RECORD_BYTES}, at most ${MAX_RECORD_BYTES_LIMIT})`,
};
const JSON_OUT: FlagSpec = { name: 'json', type: 'boolean', help: 'print records as JSON lines' };
const SKIP_BAD: FlagSpec = { name: 'skip-bad', type: 'boolean', help: 'report bad lines and read past them (exit status is still 8)' };
const LIMIT: FlagSpec = { name: 'limit', short: 'n', type: 'string', value: 'N', help: 'print at most N records' };

function maxBytesOf(args: CommandArgs): number {
  return intFlag(args, 'max-bytes', { min: 1, max: MAX_RECORD_BYTES_LIMIT, fallback: DEFAULT_MAX_RECORD_BYTES });
}

function limitOf(args: CommandArgs): number {
  return intFlag(args, 'limit', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: Number.MAX_SAFE_INTEGER });
}

/** Parses repeated `--field key=value` flags. */
function fieldsOf(args: CommandArgs): Record<string, FieldValue> | undefined {
  const fields: Record<string, FieldValue> = {};
  for (const pair of listFlag(args, 'field')) {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    if (eq === -1 || !isFieldName(name)) {
      throw fail('E_USAGE_VALUE', `Cannot use --field ${pair}: expected name=value with a lower_snake_case name other than a core field`);
    }
    fields[name] = pair.slice(eq + 1);
  }
  return Object.keys(fields).length === 0 ? undefined : fields;
}

// #region read-message
/**
 * Reads the message from stdin, refusing input over `maxBytes` as soon as it is
 * seen: memory use is capped by the record limit, not by what the sender sends.
 */
async function readStdinMessage(io: CliIo, maxBytes: number): Promise<string> {
  const bytes = await readAllCapped(io.stdin(), maxBytes,
    () => fail('E_RECORD_TOO_LARGE', `Cannot append record: stdin holds more than max ${maxBytes} bytes`));
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/\r?\n$/, '');
  } catch {
    throw fail('E_RECORD_ENCODING', 'Cannot append record: stdin is not valid UTF-8');
  }
}
// #endregion read-message

async function appendCommand(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const file = stringFlag(args, 'file') as string;
  const maxBytes = maxBytesOf(args);
  const fromStdin = args.flags.stdin === true;
  if (fromStdin && args.positionals.length > 0) {
    throw fail('E_USAGE_EXTRA', 'Cannot run "log append": give a MESSAGE or --stdin, not both');
  }
  if (!fromStdin && args.positionals.length === 0) {
    throw fail('E_USAGE_MISSING', 'Cannot run "log append": expected a MESSAGE operand or --stdin');
  }
  const level = choiceFlag(args, 'level', LOG_LEVELS) ?? 'info';
  const requestId = stringFlag(args, 'request-id');
  if (requestId !== undefined && !isRequestId(requestId)) {
    throw fail('E_USAGE_VALUE', `Cannot use --request-id ${JSON.stringify(requestId)}: expected 1-128 characters of A-Z a-z 0-9 . _ : -, starting with a letter or digit`);
  }
  const fields = fieldsOf(args);
  const msg = fromStdin ? await readStdinMessage(io, maxBytes) : (args.positionals[0] as string);
  const record: LogRecord = {
    ts: new Date(io.clock.now()).toISOString(),
    id: io.ids.next(),
    level,
    msg,
    ...(requestId === undefined ? {} : { request_id: requestId }),
    ...(fields === undefined ? {} : { fields }),
  };
  try {
    await appendRecord(file, record, { sync: args.flags.sync === true, maxBytes });
  } catch (error) {
    // When the outcome is unknown, the id is how the user finds out: `log search`.
    if (!isCivicError(error) || error.definite) throw error;
    throw new CivicError(error.code, `${error.message} (record id ${record.id})`, { definite: false, cause: error });
  }
  io.stdout(args.flags.json === true ? `${recordToJson(record)}\n` : `${record.id}\n`);
  return EXIT.ok;
}

/**
 * Streams the records of a log through a filter to stdout, collecting bad lines.
 * @returns how many records were printed
 * @throws the first bad line's error unless `--skip-bad`
 */
async function printRecords(args: CommandArgs, io: CliIo, keep: (record: LogRecord, index: number) => boolean): Promise<{ printed: number; bad: CivicError[] }> {
  const bad: CivicError[] = [];
  const skipBad = args.flags['skip-bad'] === true;
  const limit = limitOf(args);
  const asJson = args.flags.json === true;
  let printed = 0;
  let index = 0;
  const onBadLine = (error: CivicError) => {
    bad.push(error);
    io.stderr(`error[${error.code}]: ${error.message}\n`);
  };
  for await (const record of readLog(stringFlag(args, 'file') as string, { maxBytes: maxBytesOf(args), ...(skipBad ? { onBadLine } : {}) })) {
    index += 1;
    if (!keep(record, index)) continue;
    io.stdout(asJson ? `${recordToJson(record)}\n` : `${formatRecord(record)}\n`);
    printed += 1;
    if (printed >= limit) break;
  }
  return { printed, bad };
}

async function readCommand(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const from = intFlag(args, 'from', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 1 });
  const { bad } = await printRecords(args, io, (_, index) => index >= from);
  return bad.length > 0 ? EXIT.integrity : EXIT.ok;
}

async function repairCommand(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const result = await repairTornTail(stringFlag(args, 'file') as string);
  if (args.flags.json === true) io.stdout(`${JSON.stringify(result)}\n`);
  else io.stdout(result.tornBytes === 0 ? 'nothing to repair: the log ends with a whole record\n' : `moved ${result.tornBytes} torn bytes to ${result.quarantine}\n`);
  return EXIT.ok;
}

function timeFlag(args: CommandArgs, name: string): string | undefined {
  const raw = stringFlag(args, name);
  if (raw === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(ms)) throw fail('E_USAGE_VALUE', `Cannot use --${name} ${raw}: expected an ISO 8601 time such as 2026-11-25T12:00:00Z`);
  return new Date(ms).toISOString();
}

async function searchCommand(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const text = args.positionals[0];
  const filter: RecordFilter = {
    ...(text === undefined ? {} : { text }),
    ignoreCase: args.flags['ignore-case'] === true,
    ...optional('minLevel', choiceFlag(args, 'level', LOG_LEVELS)),
    ...optional('requestId', stringFlag(args, 'request-id')),
    ...optional('since', timeFlag(args, 'since')),
    ...optional('until', timeFlag(args, 'until')),
  };
  if (text === undefined && filter.minLevel === undefined && filter.requestId === undefined && filter.since === undefined && filter.until === undefined) {
    throw fail('E_USAGE_MISSING', 'Cannot run "log search": give TEXT or at least one of --level, --request-id, --since, --until');
  }
  const { printed, bad } = await printRecords(args, io, (record) => matchRecord(record, filter));
  if (bad.length > 0) return EXIT.integrity;
  return printed > 0 ? EXIT.ok : EXIT.negative;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

// #region log-commands
/** The `log` command group: append, read, search. */
export const LOG_COMMANDS: CommandGroup = {
  noun: 'log',
  summary: 'Append to, read, search and repair an append-only JSON-lines record log',
  commands: [
    {
      verb: 'append',
      summary: 'Append one record atomically and print its id',
      operands: '[MESSAGE]',
      arity: { min: 0, max: 1 },
      flags: [
        FILE,
        { name: 'level', short: 'l', type: 'string', value: 'LEVEL', help: `severity: ${LOG_LEVELS.join(', ')} (default info)` },
        { name: 'request-id', type: 'string', value: 'ID', help: 'the request this record belongs to' },
        { name: 'field', type: 'string', value: 'NAME=VALUE', multiple: true, help: 'an extra field' },
        { name: 'stdin', type: 'boolean', help: 'read the message from stdin instead of MESSAGE' },
        { name: 'sync', type: 'boolean', help: 'fsync before reporting success, so the record survives a power cut' },
        MAX_BYTES,
        { name: 'json', type: 'boolean', help: 'print the whole record as JSON instead of its id' },
      ],
      details: 'The record is size-checked before the file is touched, then written with one\nwrite() on an O_APPEND descriptor: concurrent appenders never interleave.',
      run: appendCommand,
    },
    {
      verb: 'read',
      summary: 'Print the records of a log in order',
      operands: '',
      arity: { min: 0, max: 0 },
      flags: [FILE, { name: 'from', type: 'string', value: 'N', help: 'start at the Nth record (default 1)' }, LIMIT, SKIP_BAD, MAX_BYTES, JSON_OUT],
      details: 'A line that is not a valid record stops the read with exit status 8 (integrity),\nafter the records before it were printed.',
      run: readCommand,
    },
    {
      verb: 'search',
      summary: 'Print the records that match TEXT and the filters',
      operands: '[TEXT]',
      arity: { min: 0, max: 1 },
      flags: [
        FILE,
        { name: 'ignore-case', short: 'i', type: 'boolean', help: 'match TEXT regardless of case' },
        { name: 'level', short: 'l', type: 'string', value: 'LEVEL', help: 'this severity and above' },
        { name: 'request-id', type: 'string', value: 'ID', help: 'records of this request only' },
        { name: 'since', type: 'string', value: 'TIME', help: 'records at or after this ISO 8601 time' },
        { name: 'until', type: 'string', value: 'TIME', help: 'records before this ISO 8601 time' },
        LIMIT, SKIP_BAD, MAX_BYTES, JSON_OUT,
      ],
      details: 'Exit status 1 when nothing matched, as grep does.',
      run: searchCommand,
    },
    {
      verb: 'repair',
      summary: 'Cut a torn last record off a log, keeping its bytes in FILE.torn',
      operands: '',
      arity: { min: 0, max: 0 },
      flags: [FILE, { name: 'json', type: 'boolean', help: 'print the result as JSON' }],
      details: 'Run it while no writer has the log open. Without it, the next append closes the\ntorn line with a newline, and readers report that line as E_LOG_CORRUPT.',
      run: repairCommand,
    },
  ],
};
// #endregion log-commands

/** Week 1's CLI on its own: the `log` group and week 1's catalog (`node_main.ts` runs it). */
export const WEEK1_CLI: CliSpec = { name: 'civictrust', version: 'week-01', groups: [LOG_COMMANDS], catalog: LOG_ERRORS };
