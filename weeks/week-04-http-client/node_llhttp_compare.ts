/**
 * A cross-check against Node's own HTTP parser (llhttp): the same tricky bytes are
 * fed to {@link parseHttpResponse} and, through a raw `net` server, to a `node:http`
 * client, and the two verdicts are put side by side.
 *
 * Run it to print the table the chapter shows:
 * `node --import tsx weeks/week-04-http-client/node_llhttp_compare.ts`
 * @module
 */
import http from 'node:http';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { HttpError } from './catalog.ts';
import { parseHttpResponse } from './http_parser.ts';

/** One tricky response and what each parser is expected to make of it. */
export interface TrickyCase {
  /** A short name. */
  readonly name: string;
  /** The bytes, as a string of characters below 256. */
  readonly text: string;
  /** Our verdict: `'ok'` or the error code. */
  readonly ours: string;
  /** Whether llhttp (Node 20's 9.x) accepts it: same verdict (`agree`) or not (`differ`). */
  readonly llhttp: 'agree' | 'differ';
  /** Why we decide as we do, where the two differ. */
  readonly why?: string;
}

const CL2 = 'Content-Length: 2\r\n\r\nhi';

// #region tricky-cases
/** The corpus: every row a place where HTTP parsers have disagreed in the wild. */
export const TRICKY_CASES: readonly TrickyCase[] = [
  { name: 'well-formed', text: `HTTP/1.1 200 OK\r\n${CL2}`, ours: 'ok', llhttp: 'agree' },
  { name: 'bare LF line ends', text: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nhi', ours: 'E_HTTP_BAD_STATUS_LINE', llhttp: 'agree' },
  { name: 'bare CR in a value', text: `HTTP/1.1 200 OK\r\nX: a\rb\r\n${CL2}`, ours: 'E_HTTP_BAD_HEADER', llhttp: 'agree' },
  { name: 'space before colon', text: `HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nhi`, ours: 'E_HTTP_BAD_HEADER', llhttp: 'agree' },
  { name: 'NUL in a value', text: `HTTP/1.1 200 OK\r\nX: a\0b\r\n${CL2}`, ours: 'E_HTTP_BAD_HEADER', llhttp: 'agree' },
  { name: 'whitespace before 1st header', text: `HTTP/1.1 200 OK\r\n X: 1\r\n${CL2}`, ours: 'E_HTTP_BAD_HEADER', llhttp: 'agree' },
  { name: 'TE and CL together', text: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n', ours: 'E_HTTP_CONFLICTING_LENGTH', llhttp: 'agree' },
  { name: 'two different CLs', text: `HTTP/1.1 200 OK\r\nContent-Length: 3\r\n${CL2}`, ours: 'E_HTTP_CONFLICTING_LENGTH', llhttp: 'agree' },
  { name: 'CL with a plus sign', text: 'HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nhi', ours: 'E_HTTP_BAD_HEADER', llhttp: 'agree' },
  { name: 'chunk size not hex', text: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2g\r\nhi\r\n0\r\n\r\n', ours: 'E_HTTP_BAD_CHUNK', llhttp: 'agree' },
  { name: 'chunk data overruns size', text: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiX\r\n0\r\n\r\n', ours: 'E_HTTP_BAD_CHUNK', llhttp: 'agree' },
  { name: 'chunk extensions, trailer', text: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b;c="d e"\r\nhi\r\n0\r\nX-T: 1\r\n\r\n', ours: 'ok', llhttp: 'agree' },
  { name: 'missing reason phrase', text: `HTTP/1.1 200\r\n${CL2}`, ours: 'ok', llhttp: 'agree' },
  { name: 'interim 100 Continue', text: `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n${CL2}`, ours: 'ok', llhttp: 'agree' },
  { name: 'body cut short', text: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi', ours: 'E_HTTP_TRUNCATED', llhttp: 'agree' },
  {
    name: 'obs-fold continuation', text: `HTTP/1.1 200 OK\r\nX: a\r\n b\r\n${CL2}`, ours: 'ok', llhttp: 'differ',
    why: 'RFC 9112 §5.2: a user agent must replace obs-fold with SP, so refusing it is not an option for a client',
  },
  {
    name: 'same CL twice', text: `HTTP/1.1 200 OK\r\nContent-Length: 2\r\n${CL2}`, ours: 'ok', llhttp: 'differ',
    why: 'RFC 9110 §8.6 allows one value repeated; only different values are a framing conflict',
  },
  {
    name: 'HTTP/1.2', text: `HTTP/1.2 200 OK\r\n${CL2}`, ours: 'ok', llhttp: 'differ',
    why: 'RFC 9110 §2.5: a higher minor version is compatible with 1.1',
  },
  {
    name: 'HTTP/2.0 in text', text: `HTTP/2.0 200 OK\r\n${CL2}`, ours: 'E_HTTP_BAD_STATUS_LINE', llhttp: 'differ',
    why: 'HTTP/2 is never sent as text; a text "HTTP/2.0" is not an HTTP/1.x response',
  },
  {
    name: 'status 099', text: `HTTP/1.1 099 Odd\r\n${CL2}`, ours: 'E_HTTP_BAD_STATUS_LINE', llhttp: 'differ',
    why: 'status classes are 1xx to 5xx (RFC 9110 §15); below 100 there is no class to fall back on',
  },
  {
    name: 'control byte in reason', text: `HTTP/1.1 200 O\x01K\r\n${CL2}`, ours: 'E_HTTP_BAD_STATUS_LINE', llhttp: 'differ',
    why: 'the reason-phrase grammar (RFC 9112 §4) has no control bytes',
  },
  {
    name: 'empty line before status', text: `\r\nHTTP/1.1 200 OK\r\n${CL2}`, ours: 'E_HTTP_BAD_STATUS_LINE', llhttp: 'differ',
    why: 'the leniency of RFC 9112 §2.2 is for servers reading requests, not clients reading responses',
  },
  {
    name: 'chunked twice', text: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n', ours: 'E_HTTP_BAD_HEADER', llhttp: 'differ',
    why: 'RFC 9112 §7: a sender must not apply chunked more than once',
  },
  {
    name: 'TE in an HTTP/1.0 response', text: 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n', ours: 'E_HTTP_CONFLICTING_LENGTH', llhttp: 'differ',
    why: 'RFC 9112 §6.1: treat the framing as faulty; a 1.0 reader would read to the close instead',
  },
  {
    name: 'unrequested gzip coding', text: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhi', ours: 'E_HTTP_BAD_HEADER', llhttp: 'differ',
    why: 'the client sent no TE header, so only chunked may be applied; llhttp passes the coded bytes on as the body',
  },
];
// #endregion tricky-cases

/** Our verdict on some bytes: `'ok'` or the error code. */
export function ourVerdict(text: string): string {
  try {
    parseHttpResponse(Uint8Array.from(text, (c) => c.charCodeAt(0)));
    return 'ok';
  } catch (error) {
    if (error instanceof HttpError) return error.code;
    throw error;
  }
}

/**
 * llhttp's verdict on the same bytes: a raw server sends them to a `node:http` client.
 * @returns `'ok'`, or llhttp's error code (`HPE_…`), or `'aborted'` for a body cut short
 */
export async function llhttpVerdict(text: string): Promise<string> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end(Buffer.from(text, 'latin1')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    return await new Promise<string>((resolve) => {
      const request = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
        response.on('data', () => {});
        response.on('end', () => resolve('ok'));
        response.on('aborted', () => resolve('aborted'));
        response.on('error', () => resolve('aborted'));
      });
      request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
  } finally {
    server.close();
  }
}

/** Prints the side-by-side table. */
async function main(): Promise<void> {
  const rows: string[][] = [['case', 'CivicTrust', `llhttp ${process.versions.llhttp}`, 'same verdict']];
  for (const c of TRICKY_CASES) {
    const ours = ourVerdict(c.text);
    const theirs = await llhttpVerdict(c.text);
    rows.push([c.name, ours, theirs, (ours === 'ok') === (theirs === 'ok') ? 'yes' : 'no']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
