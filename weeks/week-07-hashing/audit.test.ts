/**
 * The audit's two other refusals: a file the manifest lists but the store lost
 * (`E_AUDIT_MISSING`, through the real CLI) and a manifest that is not one
 * (`E_AUDIT_MANIFEST`), each with its stable code and nothing written.
 * @module
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../lib/errors.ts';
import { errorCodeOf, runCliProcess, thrownCode } from '../../lib/testing.ts';
import { parseManifest } from './manifest.ts';

const MAIN = fileURLToPath(new URL('./node_main.ts', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'civictrust-week7-audit-'));
const bytes = (text: string) => new TextEncoder().encode(text);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('hash audit refusals', () => {
  it('names a listed file that is gone with E_AUDIT_MISSING (exit 8) and leaves the manifest as it was', async () => {
    const store = join(work, 'store');
    mkdirSync(store, { recursive: true });
    for (const name of ['a.json', 'b.json']) writeFileSync(join(store, name), `{"doc":"${name}"}\n`);
    expect((await runCliProcess(['hash', 'manifest', store], { entry: MAIN })).code).toBe(EXIT.ok);
    const manifest = readFileSync(join(store, 'civictrust-manifest.json'));
    unlinkSync(join(store, 'b.json'));
    const audit = await runCliProcess(['hash', 'audit', store], { entry: MAIN });
    expect(audit.code).toBe(EXIT.integrity);
    expect(errorCodeOf(audit.stderr)).toBe('E_AUDIT_MISSING');
    expect(audit.stdout).toMatch(/^MISSING {2}b\.json/m);
    expect(readFileSync(join(store, 'civictrust-manifest.json')).equals(manifest)).toBe(true);
  });

  it('refuses a manifest that is not JSON, has the wrong shape, an unsafe path or a path twice with E_AUDIT_MANIFEST', () => {
    const entry = (path: string) => ({ path, size: 1, sha256: 'a'.repeat(64) });
    const cases = [
      'not json',
      JSON.stringify({ version: 1, algorithm: 'md5', files: [] }),
      JSON.stringify({ version: 1, algorithm: 'sha256', files: [entry('../escape')] }),
      JSON.stringify({ version: 1, algorithm: 'sha256', files: [entry('x'), entry('x')] }),
    ];
    for (const text of cases) expect(thrownCode(() => parseManifest(bytes(text))), text).toBe('E_AUDIT_MANIFEST');
  });
});
