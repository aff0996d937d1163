/**
 * The durable nonce store: the log format read back with a torn tail and with damage,
 * and {@link DurableNonceCache} reopened on real files (the process-level restart
 * tests are in the gate).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeWorkspace, thrownCode } from '../../lib/testing.ts';
import { encodeHorizon, encodeNonceEntry, parseNonceLog } from './nonce_log.ts';
import { DurableNonceCache, NONCE_LOG_FILE } from './node_nonce_store.ts';
import { checkWindow, DEFAULT_REPLAY_POLICY } from './replay.ts';

const workspace = makeWorkspace('nonce-store');
afterAll(() => workspace.remove());
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const policy = { ...DEFAULT_REPLAY_POLICY, maxEntries: 100 };
const entry = (i: number) => ({ timestamp: T0 + i, seenAt: T0 + i + 5, keyId: 'alice-v1', nonce: `nonce-${i}` });

describe('nonce log format', () => {
  it('reads back what it wrote, and drops only an unterminated final line as torn', () => {
    const text = encodeHorizon(T0) + encodeNonceEntry(entry(1)) + encodeNonceEntry(entry(2));
    expect(parseNonceLog(text, 'x')).toEqual({ horizon: T0, entries: [entry(1), entry(2)], tornBytes: 0 });
    const torn = text + encodeNonceEntry(entry(3)).slice(0, 20);
    expect(parseNonceLog(torn, 'x')).toMatchObject({ entries: [entry(1), entry(2)], tornBytes: 20 });
  });

  it('refuses every single-bit flip of every complete line with E_REPLAY_STORE_CORRUPT, never a silent loss', () => {
    const text = encodeHorizon(T0) + encodeNonceEntry(entry(1)) + encodeNonceEntry(entry(2));
    const bytes = new TextEncoder().encode(text);
    const verdicts = new Map<string, number>();
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = bytes.slice();
        copy[i] = (copy[i] as number) ^ (1 << bit);
        let verdict: string;
        try {
          const parsed = parseNonceLog(new TextDecoder('latin1').decode(copy), 'x');
          // The only flips that may pass are those of the final newline, which make the last line look torn.
          verdict = i === bytes.length - 1 && parsed.entries.length === 1 ? 'torn-last' : `accepted@${i}`;
        } catch (error) {
          verdict = thrownCode(() => { throw error; }) ?? 'uncoded';
        }
        verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
      }
    }
    expect([...verdicts.keys()].sort()).toEqual(['E_REPLAY_STORE_CORRUPT', 'torn-last']);
  });
});

describe('DurableNonceCache on real files', () => {
  it('remembers across a reopen, keeps the horizon, and forgets only what left the window', () => {
    const dir = join(workspace.dir, 'reopen');
    const a = DurableNonceCache.open(dir, T0, policy);
    expect(a.record('alice-v1', 'n1', T0, T0)).toBe('recorded');
    expect(a.record('alice-v1', 'n2', T0 - 100_000, T0)).toBe('recorded');
    // no close: as after SIGKILL, only what was synced is there
    const b = DurableNonceCache.open(dir, T0 + 30_000, policy);
    expect([b.has('alice-v1', 'n1'), b.has('alice-v1', 'n2')]).toEqual([true, false]);
    b.close();
    // a clock stepped back across the restart keeps the past edge where it was
    const c = DurableNonceCache.open(dir, T0 - 60_000, policy);
    expect(c.horizon).toBe(T0 + 30_000);
    expect(thrownCode(() => checkWindow(T0 - 100_000, T0 - 60_000, policy, c.horizon))).toBe('E_TIMESTAMP_EXPIRED');
    c.close();
  });

  it('keeps its file bounded: dead lines are compacted away', () => {
    const dir = join(workspace.dir, 'bounded');
    const small = { maxAgeMs: 1000, maxFutureSkewMs: 0, maxEntries: 2000 };
    const cache = DurableNonceCache.open(dir, T0, small);
    for (let i = 0; i < 9000; i++) expect(cache.record('alice-v1', `n${i}`, T0 + i, T0 + i)).toBe('recorded');
    const size = statSync(join(dir, NONCE_LOG_FILE)).size;
    cache.close();
    expect(size).toBeLessThan(4096 * 70);
  }, 120_000);

  it('refuses to open a damaged log', () => {
    const dir = join(workspace.dir, 'damaged');
    const cache = DurableNonceCache.open(dir, T0, policy);
    cache.record('alice-v1', 'n1', T0, T0);
    cache.close();
    const path = join(dir, NONCE_LOG_FILE);
    writeFileSync(path, readFileSync(path, 'latin1').replace('alice', 'alicf'), 'latin1');
    expect(thrownCode(() => DurableNonceCache.open(dir, T0, policy))).toBe('E_REPLAY_STORE_CORRUPT');
  });
});
