/**
 * Every `log` command, given missing, unreadable, wrong-type, garbage and out-of-range
 * arguments, fails with a catalog code, the exit status the catalog documents, and no
 * stack trace; and the CLI boundary never lets a raw Node error (ENOENT, EACCES,
 * ECONNREFUSED…) out as `error[ENOENT]` with exit 70.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_ERRORS } from './catalog.ts';
import type { CliSpec } from './cli.ts';
import { CivicError, EXIT, isCivicError, mergeCatalogs } from './errors.ts';
import { osError } from './fs_errors.ts';
import { commandsWithoutCases, driveBadInput, runInProcess, type BadInputCase } from './node_bad_input.ts';
import { WEEK1_CLI } from './node_log_cli.ts';
import { makeWorkspace, type Workspace } from './node_workspace.ts';

const SPEC = { module: new URL('./node_log_cli.ts', import.meta.url), name: 'WEEK1_CLI' };
const NOBODY = 65534;
let ws: Workspace;
let missing: string;
let dir: string;
let garbage: string;
let secret: string;

beforeAll(() => {
  ws = makeWorkspace('week1-bad-input');
  missing = join(ws.dir, 'no', 'such.log');
  dir = ws.fresh('dir');
  mkdirSync(dir);
  garbage = ws.fresh('garbage.log');
  writeFileSync(garbage, Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x0a]));
  secret = ws.fresh('secret.log');
  writeFileSync(secret, '{"ts":"2026-12-01T00:00:00.000Z","id":"a","level":"info","msg":"x"}\n');
  chmodSync(secret, 0o600); // root's: nobody cannot read it
});
afterAll(() => ws.remove());

function cases(): BadInputCase[] {
  const out: BadInputCase[] = [];
  for (const verb of ['read', 'search', 'repair']) {
    const text = verb === 'search' ? ['x'] : [];
    out.push(
      { argv: ['log', verb, '-f', missing, ...text], code: 'E_PATH_NOT_FOUND' },
      { argv: ['log', verb, '-f', dir, ...text], code: 'E_PATH_IS_DIR' },
      { argv: ['log', verb, '-f', join(garbage, 'x.log'), ...text], code: 'E_PATH_NOT_DIR' },
      { argv: ['log', verb, '-f', '', ...text], code: 'E_PATH_INVALID' },
      { argv: ['log', verb, '-f', secret, ...text], code: 'E_PATH_PERMISSION', uid: NOBODY },
      { argv: ['log', verb, '--bogus', '-f', garbage, ...text], code: 'E_USAGE_FLAG' },
    );
  }
  out.push(
    { argv: ['log', 'read', '-f', garbage], code: 'E_LOG_CORRUPT' },
    { argv: ['log', 'read', '-f', garbage, '--limit=-1'], code: 'E_USAGE_VALUE' },
    { argv: ['log', 'read', '-f', garbage, '--max-bytes', '99999999999'], code: 'E_USAGE_VALUE' },
    { argv: ['log', 'search', '-f', garbage, '--since', 'yesterday'], code: 'E_USAGE_VALUE' },
    { argv: ['log', 'append', '-f', missing, 'hi'], code: 'E_PATH_NOT_FOUND' },
    { argv: ['log', 'append', '-f', dir, 'hi'], code: 'E_PATH_IS_DIR' },
    { argv: ['log', 'append', '-f', join(garbage, 'x.log'), 'hi'], code: 'E_PATH_NOT_DIR' },
    { argv: ['log', 'append', '-f', secret, 'hi'], code: 'E_PATH_PERMISSION', uid: NOBODY },
    { argv: ['log', 'append', '-f', ws.fresh('a.log'), ''], code: 'E_RECORD_EMPTY' },
    { argv: ['log', 'append', '-f', ws.fresh('a.log'), '--level', 'loud', 'hi'], code: 'E_USAGE_VALUE' },
    { argv: ['log', 'append', '-f', ws.fresh('a.log'), '--max-bytes', '0', 'hi'], code: 'E_USAGE_VALUE' },
    { argv: ['log', 'append', '-f', ws.fresh('a.log'), '--field', 'no equals', 'hi'], code: 'E_USAGE_VALUE' },
    // One validator for request ids: the log refuses what `echo send` refuses.
    { argv: ['log', 'append', '-f', ws.fresh('a.log'), '--request-id', 'bad id', 'hi'], code: 'E_USAGE_VALUE' },
    { argv: ['log', 'append', '-f', ws.fresh('a.log'), '--request-id=-starts-with-dash', 'hi'], code: 'E_USAGE_VALUE' },
    { argv: ['log', 'append', '-f', ws.fresh('a.log'), '--stdin'], stdin: '', code: 'E_RECORD_EMPTY' },
  );
  return out;
}

describe('week 1: every log command fails with a coded, documented error', () => {
  it('covers every command of the week', () => {
    expect(commandsWithoutCases(WEEK1_CLI, cases())).toEqual([]);
  });

  it('missing, unreadable (as nobody), wrong-type, garbage and out-of-range arguments', async () => {
    expect(await driveBadInput(WEEK1_CLI, SPEC, cases())).toEqual([]);
  }, 120_000);
});

describe('the CLI boundary: only catalog codes reach the user', () => {
  /** A CLI whose one command throws what it is given, as a command with a missed catch would. */
  const throwing = (thrown: unknown): CliSpec => ({
    ...WEEK1_CLI,
    catalog: mergeCatalogs(LOG_ERRORS, { E_NET_REFUSED: { exit: 'unavailable', http: 503, definite: true, summary: 's', action: 'Start the server' } }),
    groups: [{ noun: 't', summary: 'test', commands: [{ verb: 'x', summary: 'throws', operands: '', arity: { min: 0, max: 0 }, flags: [], run: async () => { throw thrown; } }] }],
  });
  const errno = (code: string, fields: Record<string, unknown>): Error => Object.assign(new Error(`${code}: raw`), { code, errno: -1, ...fields });

  it.each([
    // [errno, its fields, the code it becomes, the exit status, what the message names]
    ['ENOENT', { syscall: 'scandir', path: '/missing' }, 'E_PATH_NOT_FOUND', EXIT.notFound, '/missing'],
    ['EACCES', { syscall: 'open', path: '/srv/locked/x' }, 'E_PATH_PERMISSION', EXIT.permission, '/srv/locked/x'],
    ['EISDIR', { syscall: 'read' , path: '/tmp' }, 'E_PATH_IS_DIR', EXIT.notFound, '/tmp'],
    ['ENOTDIR', { syscall: 'open', path: '/etc/passwd/x' }, 'E_PATH_NOT_DIR', EXIT.notFound, '/etc/passwd/x'],
    ['ENOSPC', { syscall: 'write', path: '/full/x' }, 'E_IO_NO_SPACE', EXIT.io, '/full/x'],
    ['EEXIST', { syscall: 'mkdir', path: '/tmp' }, 'E_IO', EXIT.io, '/tmp'],
    ['EMFILE', { syscall: 'open', path: '/a' }, 'E_IO', EXIT.io, 'EMFILE'],
    ['ECONNREFUSED', { syscall: 'connect', address: '127.0.0.1', port: 1 }, 'E_NET_REFUSED', EXIT.unavailable, '127.0.0.1:1'],
    // EADDRINUSE's code is not in this CLI's catalog: it is still coded, as E_IO.
    ['EADDRINUSE', { syscall: 'listen', address: '0.0.0.0', port: 80 }, 'E_IO', EXIT.io, '0.0.0.0:80'],
  ])('a raw %s (%o) becomes %s', async (code, fields, expected, exit, where) => {
    const result = await runInProcess(throwing(errno(code, fields)), ['t', 'x']);
    expect(result.stderr).toMatch(new RegExp(`^error\\[${expected}\\]: `));
    expect(result.stderr).toContain(where);
    expect(result.stderr).toMatch(/\nhint: \S/);
    expect(result.code).toBe(exit);
  });

  it('a bug (a TypeError, an ERR_* code) stays E_INTERNAL with exit 70', async () => {
    const result = await runInProcess(throwing(Object.assign(new TypeError('boom'), { code: 'ERR_INVALID_ARG_TYPE' })), ['t', 'x']);
    expect(result.stderr).toMatch(/^error\[E_INTERNAL\]: Unexpected failure, please report it: ERR_INVALID_ARG_TYPE: boom\n/);
    expect(result.code).toBe(EXIT.internal);
  });

  it('isCivicError accepts only E_* codes that say whether they are definite, and with a catalog only its codes', () => {
    expect(isCivicError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    expect(isCivicError(Object.assign(new Error('x'), { code: 'E_PATH_NOT_FOUND' }))).toBe(false);
    expect(isCivicError(new CivicError('E_PATH_NOT_FOUND', 'x', { definite: true }))).toBe(true);
    expect(isCivicError(new CivicError('E_NOT_IN_IT', 'x', { definite: true }), LOG_ERRORS)).toBe(false);
    expect(osError(new CivicError('E_PATH_NOT_FOUND', 'x', { definite: true }), LOG_ERRORS)).toBeInstanceOf(CivicError);
  });
});
