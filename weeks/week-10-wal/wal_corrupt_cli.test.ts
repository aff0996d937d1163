/**
 * Issue 14, as found: `wal bench DIR --count 20 --writers 1 --fsync always`, one bit of a
 * middle record's length field flipped (bit 0 of byte 2702 of the segment), then `wal
 * recover`. Recovery used to call it a torn tail, quarantine records 11–20 and exit 0. Now
 * every way in (recover, kv serve --wal) refuses with E_WAL_CORRUPT, names the offset and the
 * LSNs at stake, and moves nothing; only `wal repair --truncate-at` cuts, into quarantine/.
 * Real processes, real files.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { generateKey } from '../../lib/signing.ts';
import { errorCodeOf, runCliProcess } from '../../lib/testing.ts';

const ENTRY = fileURLToPath(new URL('./node_main.ts', import.meta.url));
const cli = (args: readonly string[], prefix: readonly string[] = []) => runCliProcess(args, { entry: ENTRY, prefix });
const SEGMENT = 'wal-00000000000000000001.log';

describe('a bit flipped in a middle record (real processes)', () => {
  let dir: string;
  let store: string;
  let segment: string;
  let original: Buffer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wal-corrupt-'));
    expect((await cli(['wal', 'bench', dir, '--count', '20', '--writers', '1', '--fsync', 'always'])).code).toBe(0);
    store = join(dir, 'bench-always-1-20');
    segment = join(store, 'wal', SEGMENT);
    original = readFileSync(segment);
    const flipped = Buffer.from(original);
    flipped[2702]! ^= 1;
    writeFileSync(segment, flipped);
  }, 120_000);
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('wal recover refuses with E_WAL_CORRUPT (exit 8), names offset, LSNs and the way out, and moves nothing', async () => {
    const before = readFileSync(segment);
    const out = await cli(['wal', 'recover', store]);
    expect(out.code).toBe(8);
    expect(errorCodeOf(out.stderr)).toBe('E_WAL_CORRUPT');
    expect(out.stderr).toMatch(/offset 2701 \(lsn 11\)/);
    expect(out.stderr).toMatch(/lsn 11\.\.20/);
    expect(out.stderr).toMatch(/peer or a snapshot/);
    expect(out.stderr).toMatch(/wal repair DIR --truncate-at 11/);
    expect(readFileSync(segment).equals(before)).toBe(true);
    expect(readdirSync(join(store, 'wal'))).toEqual([SEGMENT]);
  }, 60_000);

  it('wal inspect reports E_WAL_CORRUPT, never ok, and exits 8', async () => {
    const out = await cli(['wal', 'inspect', store]);
    expect(out.code).toBe(8);
    expect(out.stdout).toMatch(/E_WAL_CORRUPT at 2701/);
    expect(out.stdout).not.toMatch(/ ok\n/);
  }, 60_000);

  it('kv serve --wal refuses to start (exit 8) instead of serving a log with a hole', async () => {
    const keys = join(dir, 'keys');
    generateKey(keys, 'alice', { clock: systemClock });
    // `timeout` ends a server that wrongly started; exit 124 would then fail the test.
    const out = await cli(['kv', 'serve', '--keys', keys, '--wal', store, '--port', '0'], ['timeout', '60']);
    expect(out.code).toBe(8);
    expect(errorCodeOf(out.stderr)).toBe('E_WAL_CORRUPT');
    expect(readFileSync(segment).length).toBe(original.length);
  }, 90_000);

  it('wal repair --truncate-at 11 quarantines lsn 11..20 and then recovery opens at lsn 10', async () => {
    const cut = await cli(['wal', 'repair', store, '--truncate-at', '11', '--json']);
    expect(cut.code).toBe(0);
    expect(JSON.parse(cut.stdout)).toMatchObject({ lsn: 11, offset: 2701, bytes: original.length - 2701 });
    const q = readdirSync(join(store, 'wal', 'quarantine'));
    expect(q).toEqual([`${SEGMENT}.at-2701.bad`]);
    expect(readFileSync(join(store, 'wal', 'quarantine', q[0]!)).length).toBe(original.length - 2701);
    const again = await cli(['wal', 'recover', store, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ lsn: 10, damage: null });
  }, 60_000);

  it('wal recover on a missing directory is E_PATH_NOT_FOUND and creates nothing', async () => {
    const missing = join(dir, 'missing', 'dir');
    const out = await cli(['wal', 'recover', missing]);
    expect(out.code).not.toBe(0);
    expect(errorCodeOf(out.stderr)).toBe('E_PATH_NOT_FOUND');
    expect(readdirSync(dir)).not.toContain('missing');
  }, 60_000);
});
