/**
 * The on-demand loading of the `civictrust` CLI: a noun's spec must hold the same
 * group the whole CLI has for it, and a catalog that knows every code the whole CLI
 * knows for that group's barrels; so loading less can never change what a command does.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { loadCli } from './civictrust.ts';

describe('loadCli', () => {
  it('gives every noun of the whole CLI the very same group object, alone or with its neighbours', async () => {
    const whole = await loadCli(['--help']);
    const nouns = whole.groups.map((group) => group.noun);
    expect(nouns).toEqual(['log', 'echo', 'server', 'http', 'pool', 'overload', 'hash', 'key', 'envelope', 'node', 'kv', 'wal', 'lin', 'cluster']);
    for (const group of whole.groups) {
      const one = await loadCli([group.noun, 'anything']);
      expect(one.groups, group.noun).toContain(group);
      for (const code of Object.keys(one.catalog)) expect(whole.catalog[code], code).toEqual(one.catalog[code]);
    }
  });

  it('loads the whole CLI for top-level flags and unknown nouns, so help lists everything and errors list the choices', async () => {
    for (const argv of [[], ['--version'], ['nonsense', 'verb']]) {
      expect((await loadCli(argv)).groups).toHaveLength(14);
    }
  });

  it('gives the log noun only week 1, which is what keeps `log append` quick to start', async () => {
    const log = await loadCli(['log', 'append']);
    expect(log.groups.map((group) => group.noun)).toEqual(['log']);
    expect(Object.keys(log.catalog).every((code) => code.startsWith('E_'))).toBe(true);
  });
});
