/**
 * `civictrust http get|post`: week 4's command group, a thin shell over
 * {@link httpRequest}. Output goes to stdout (the response, or one JSON line with
 * `--json`), failures to stderr as `error[CODE]: message` with the exit status the
 * catalog gives the code; `--log` appends one structured record per request.
 * @module
 */
import { EXIT, isCivicError, type ExitCode } from '../../lib/errors.ts';
import { intFlag, stringFlag, type CliIo, type CommandArgs, type CommandGroup, type CommandSpec, type FlagSpec } from '../../lib/cli.ts';
import { appendRecord } from '../../lib/logger.ts';
import { isTransientHttpError } from './catalog.ts';
import { DEFAULT_HTTP_LIMITS, type HttpHeader } from './http_parser.ts';
import { httpOutcomeRecord, type HttpOutcome } from './http_record.ts';
import { DEFAULT_HTTP_TIMEOUTS, httpRequest, type HttpExchange } from './node_http_client.ts';

const MAX_TIMEOUT_MS = 600_000;
const MAX_BODY_LIMIT = 256 * 1024 * 1024;

const COMMON_FLAGS: readonly FlagSpec[] = [
  { name: 'timeout-connect', type: 'string', value: 'MS', help: `connect timeout, DNS included (default ${DEFAULT_HTTP_TIMEOUTS.connectMs})` },
  { name: 'timeout-read', type: 'string', value: 'MS', help: `longest silence from the server once connected (default ${DEFAULT_HTTP_TIMEOUTS.readMs})` },
  { name: 'timeout-total', type: 'string', value: 'MS', help: `the whole exchange (default ${DEFAULT_HTTP_TIMEOUTS.totalMs})` },
  { name: 'request-id', type: 'string', value: 'ID', help: 'the X-Request-Id to send (default: a fresh random id)' },
  { name: 'max-body-bytes', type: 'string', value: 'N', help: `largest body accepted (default ${DEFAULT_HTTP_LIMITS.maxBodyBytes})` },
  { name: 'log', type: 'string', value: 'PATH', help: 'append one JSON-lines record for the request to this log' },
  { name: 'fail', type: 'boolean', help: 'exit 1 when the status is 400 or above (the response is still printed)' },
  { name: 'json', type: 'boolean', help: 'print the response as one JSON object' },
];

const DETAILS = [
  'Sends one HTTP/1.1 request on a fresh connection, with an X-Request-Id header, and',
  'prints the status line, the headers and the body. No retries: a failure exits with',
  'its code and the catalog says whether retrying later may help.',
  '',
  'Exit status: 0 a complete response (any status, unless --fail); 1 with --fail and a',
  'status of 400 or more; 2 a bad URL, address or request id; 3 a response over a limit;',
  '4 an unknown host; 7 refused, unreachable, timed out or cut short (retry later);',
  '8 a malformed response (do not trust it).',
].join('\n');

/** Renders a complete response the way `curl -i` does: head, empty line, body. */
function formatResponse(response: HttpExchange): string {
  const head = [`HTTP/${response.version} ${response.status} ${response.reason}`.trimEnd(), ...response.headers.map(([n, v]) => `${n}: ${v}`)];
  const trailers = response.trailers.map(([n, v]) => `${n}: ${v}`);
  const body = new TextDecoder().decode(response.body);
  return `${head.join('\n')}\n\n${body}${trailers.length === 0 ? '' : `\n\n${trailers.join('\n')}\n`}`;
}

/** The response as one JSON object; a body that is not UTF-8 is given in base64. */
function responseJson(response: HttpExchange): string {
  let body: { body: string } | { body_base64: string };
  try {
    body = { body: new TextDecoder('utf-8', { fatal: true }).decode(response.body) };
  } catch {
    body = { body_base64: Buffer.from(response.body).toString('base64') };
  }
  const headers = (fields: readonly HttpHeader[]): string[][] => fields.map(([n, v]) => [n, v]);
  return JSON.stringify({
    request_id: response.requestId,
    version: response.version,
    status: response.status,
    reason: response.reason,
    headers: headers(response.headers),
    ...body,
    trailers: headers(response.trailers),
    framing: response.framing,
    timings_ms: {
      connect: Math.round(response.timings.connectMs),
      first_byte: Math.round(response.timings.firstByteMs),
      total: Math.round(response.timings.totalMs),
    },
  });
}

// #region cli-run
/** Runs one request from the command line, logs its outcome if asked, prints the result. */
async function runRequest(method: 'GET' | 'POST', args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const url = args.positionals[0] as string;
  const timeout = (name: string, fallback: number): number => intFlag(args, name, { min: 1, max: MAX_TIMEOUT_MS, fallback });
  const timeouts = {
    connectMs: timeout('timeout-connect', DEFAULT_HTTP_TIMEOUTS.connectMs),
    readMs: timeout('timeout-read', DEFAULT_HTTP_TIMEOUTS.readMs),
    totalMs: timeout('timeout-total', DEFAULT_HTTP_TIMEOUTS.totalMs),
  };
  const maxBodyBytes = intFlag(args, 'max-body-bytes', { min: 0, max: MAX_BODY_LIMIT, fallback: DEFAULT_HTTP_LIMITS.maxBodyBytes });
  const requestId = stringFlag(args, 'request-id') ?? io.ids.next();
  const data = stringFlag(args, 'data');
  const contentType = stringFlag(args, 'content-type');
  const logPath = stringFlag(args, 'log');
  const started = performance.now();
  const log = async (outcome: Omit<HttpOutcome, 'requestId' | 'method' | 'url' | 'latencyMs'>): Promise<void> => {
    if (logPath === undefined) return;
    const record = httpOutcomeRecord({ requestId, method, url, latencyMs: performance.now() - started, ...outcome }, io);
    await appendRecord(logPath, record).catch((error: unknown) => {
      // The request's own outcome stays the command's outcome; a log failure is reported beside it.
      io.stderr(`warning[${isCivicError(error) ? error.code : 'E_INTERNAL'}]: Cannot log the request: ${error instanceof Error ? error.message : String(error)}\n`);
    });
  };
  let response: HttpExchange;
  try {
    response = await httpRequest(url, {
      requestId,
      method,
      timeouts,
      limits: { maxBodyBytes },
      ...(data === undefined ? {} : { body: data }),
      ...(contentType === undefined ? {} : { headers: [['Content-Type', contentType]] }),
    });
  } catch (error) {
    if (isCivicError(error)) {
      await log({ error: { code: error.code, message: error.message, transient: isTransientHttpError(error), definite: error.definite } });
    }
    throw error;
  }
  await log({ status: response.status, bodyBytes: response.body.length });
  io.stdout(args.flags.json === true ? `${responseJson(response)}\n` : formatResponse(response));
  return args.flags.fail === true && response.status >= 400 ? EXIT.negative : EXIT.ok;
}
// #endregion cli-run

const GET: CommandSpec = {
  verb: 'get',
  summary: 'Send a GET request and print the response',
  operands: 'URL',
  arity: { min: 1, max: 1 },
  flags: COMMON_FLAGS,
  details: DETAILS,
  run: (args, io) => runRequest('GET', args, io),
};

const POST: CommandSpec = {
  verb: 'post',
  summary: 'Send a POST request with a body and print the response',
  operands: 'URL',
  arity: { min: 1, max: 1 },
  flags: [
    { name: 'data', type: 'string', value: 'TEXT', help: 'the request body (default empty)' },
    { name: 'content-type', type: 'string', value: 'TYPE', help: 'the Content-Type header, e.g. application/json' },
    ...COMMON_FLAGS,
  ],
  details: DETAILS,
  run: (args, io) => runRequest('POST', args, io),
};

/** The `http` command group: get, post. */
export const HTTP_COMMANDS: CommandGroup = {
  noun: 'http',
  summary: 'Send one HTTP/1.1 request with a request id and print the response',
  commands: [GET, POST],
};
