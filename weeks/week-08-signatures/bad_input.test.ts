/**
 * Week 8's commands (`key`, `envelope`) given missing, unreadable (as nobody), wrong-type,
 * garbage and out-of-range arguments: each fails with a catalog code, the exit status
 * the catalog documents, and no stack trace (issue 14).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { commandsWithoutCases, driveBadInput, makeBadPaths, NOBODY, type BadInputCase } from '../../lib/testing.ts';
import { WEEK8_CLI } from './node_sign_cli.ts';

const WHERE = { module: new URL('./node_sign_cli.ts', import.meta.url), name: 'WEEK8_CLI' };
const p = makeBadPaths('week8-bad-input');
afterAll(() => p.remove());

const CASES: BadInputCase[] = [
  { argv: ['key', 'gen', 'k', '--dir', p.garbage] },
  { argv: ['key', 'gen', 'bad name!', '--dir', p.dir], code: 'E_KEY_MALFORMED' },
  { argv: ['key', 'gen', 'k', '--dir', p.secretDir], code: 'E_PATH_PERMISSION', uid: NOBODY },
  { argv: ['key', 'list', '--dir', p.missing], code: 'E_KEY_NOT_FOUND' },
  { argv: ['key', 'list', '--dir', p.garbage], code: 'E_PATH_NOT_DIR' },
  { argv: ['key', 'list', '--dir', p.secretDir], code: 'E_PATH_PERMISSION', uid: NOBODY },
  { argv: ['key', 'rotate', 'k', '--dir', p.missing], code: 'E_KEY_NOT_FOUND' },
  { argv: ['key', 'rotate', 'k', '--dir', p.dir], code: 'E_KEY_NOT_FOUND' },
  { argv: ['key', 'rotate', 'k', '--dir', p.dir, '--overlap-ms', '-1'] },
  { argv: ['envelope', 'sign', 'k', '--dir', p.missing], code: 'E_KEY_NOT_FOUND' },
  { argv: ['envelope', 'sign', 'k', '--dir', p.dir, '--file', p.missing] },
  { argv: ['envelope', 'sign', 'k', '--dir', p.secretDir], code: 'E_PATH_PERMISSION', uid: NOBODY },
  { argv: ['envelope', 'verify', '--keyring', p.missing, '--file', p.garbage], code: 'E_KEY_NOT_FOUND' },
  { argv: ['envelope', 'verify', '--keyring', p.dir, '--file', p.missing], code: 'E_PATH_NOT_FOUND' },
  { argv: ['envelope', 'verify', '--keyring', p.dir, '--file', p.dir], code: 'E_PATH_IS_DIR' },
  { argv: ['envelope', 'verify', '--keyring', p.dir, '--file', p.garbage], code: 'E_JSON_BAD_UTF8' },
  { argv: ['envelope', 'verify', '--keyring', p.garbage, '--file', p.garbage], code: 'E_PATH_NOT_DIR' },
  { argv: ['envelope', 'verify', '--keyring', p.secretDir, '--file', p.garbage], code: 'E_PATH_PERMISSION', uid: NOBODY },
];

describe('week 8: every command fails with a coded, documented error', () => {
  it('covers every command the week adds', () => {
    expect(commandsWithoutCases(WEEK8_CLI, CASES, ['key', 'envelope'])).toEqual([]);
  });

  it('missing, unreadable, wrong-type, garbage and out-of-range arguments', async () => {
    expect(await driveBadInput(WEEK8_CLI, WHERE, CASES)).toEqual([]);
  }, 120_000);
});
