/**
 * Week 7's commands (`hash`) given missing, unreadable (as nobody), wrong-type,
 * garbage and out-of-range arguments: each fails with a catalog code, the exit status
 * the catalog documents, and no stack trace (issue 14).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { commandsWithoutCases, driveBadInput, makeBadPaths, NOBODY, type BadInputCase } from '../../lib/testing.ts';
import { WEEK7_CLI } from './node_hash_cli.ts';

const WHERE = { module: new URL('./node_hash_cli.ts', import.meta.url), name: 'WEEK7_CLI' };
const p = makeBadPaths('week7-bad-input');
afterAll(() => p.remove());

const CASES: BadInputCase[] = [
  { argv: ['hash', 'file', p.missing], code: 'E_PATH_NOT_FOUND' },
  { argv: ['hash', 'file', p.dir], code: 'E_PATH_IS_DIR' },
  { argv: ['hash', 'file', p.secretFile], code: 'E_PATH_PERMISSION', uid: NOBODY },
  { argv: ['hash', 'json', p.garbage], code: 'E_JSON_BAD_UTF8' },
  { argv: ['hash', 'json', p.dir], code: 'E_PATH_IS_DIR' },
  { argv: ['hash', 'json', p.secretFile], code: 'E_PATH_PERMISSION', uid: NOBODY },
  { argv: ['hash', 'manifest', p.missing], code: 'E_PATH_NOT_FOUND' },
  { argv: ['hash', 'manifest', p.garbage], code: 'E_PATH_NOT_DIR' },
  { argv: ['hash', 'manifest', p.secretDir], uid: NOBODY },
  { argv: ['hash', 'audit', p.missing], code: 'E_PATH_NOT_FOUND' },
  { argv: ['hash', 'audit', p.garbage], code: 'E_AUDIT_MANIFEST' },
  { argv: ['hash', 'audit', p.secretDir], uid: NOBODY },
];

describe('week 7: every command fails with a coded, documented error', () => {
  it('covers every command the week adds', () => {
    expect(commandsWithoutCases(WEEK7_CLI, CASES, ['hash'])).toEqual([]);
  });

  it('missing, unreadable, wrong-type, garbage and out-of-range arguments', async () => {
    expect(await driveBadInput(WEEK7_CLI, WHERE, CASES)).toEqual([]);
  }, 120_000);
});
