/**
 * Reading status replies: a leader counts only when a majority of all voters names it in
 * its term; only different hashes at the SAME applied index are divergence (a node behind
 * is lag); the table marks the leader's followers, a lagging node, a divergent one and a
 * node that did not answer.
 * @module
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StatusReply } from '../../lib/replication.ts';
import { agreedLeader, converged, divergentNodes, statusTable, type NodeStatus } from './cluster_status.ts';

function node(id: string, fields: Partial<StatusReply> | null, error = 'E_NET_REFUSED'): NodeStatus {
  if (fields === null) return { id, address: `127.0.0.1:700${id.slice(1)}`, status: null, error };
  const status: StatusReply = { ok: true, node: id, role: 'follower', term: 2, leader: 'n1', commit_index: 5, applied_index: 5, state_hash: 'a'.repeat(64), ...fields };
  return { id, address: `127.0.0.1:700${id.slice(1)}`, status, error: null };
}

describe('agreedLeader', () => {
  it('names a leader a majority of all voters agrees on, counting down nodes as voters', () => {
    const up = [node('n1', { role: 'leader' }), node('n2', {}), node('n3', null)];
    expect(agreedLeader(up, 3)).toBe('n1');
    expect(agreedLeader(up, 5)).toBeNull(); // 2 of 5 is no majority
  });

  it('refuses a self-proclaimed leader the others place in another term', () => {
    const split = [node('n1', { role: 'leader', term: 3 }), node('n2', { term: 2 }), node('n3', { term: 2, leader: null })];
    expect(agreedLeader(split, 3)).toBeNull();
  });
});

describe('divergentNodes', () => {
  it('flags different hashes at one applied index, and not a node that is merely behind', () => {
    const behind = [node('n1', {}), node('n2', { applied_index: 3, state_hash: 'b'.repeat(64) }), node('n3', null)];
    expect(divergentNodes(behind)).toEqual([]);
    const diverged = [node('n1', {}), node('n2', { state_hash: 'b'.repeat(64) }), node('n3', {})];
    expect(divergentNodes(diverged)).toEqual(['n1', 'n2', 'n3']);
  });

  it('never flags nodes that all stand at distinct applied indexes, whatever their hashes', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.nat(1000), { minLength: 1, maxLength: 7 }), fc.array(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 7, maxLength: 7 }), (indexes, hashes) => {
      const statuses = indexes.map((applied, i) => node(`n${i + 1}`, { applied_index: applied, state_hash: hashes[i] as string }));
      expect(divergentNodes(statuses)).toEqual([]);
    }), { seed: 12 });
  });
});

describe('converged', () => {
  it('holds only when every node answered with one applied index and one hash', () => {
    expect(converged([node('n1', {}), node('n2', {}), node('n3', {})])).toBe(true);
    expect(converged([node('n1', {}), node('n2', {}), node('n3', null)])).toBe(false);
    expect(converged([node('n1', {}), node('n2', { applied_index: 4 }), node('n3', {})])).toBe(false);
    expect(converged([])).toBe(false);
  });
});

describe('statusTable', () => {
  it('prints one row per node with the notes an operator needs', () => {
    const table = statusTable([
      node('n1', { role: 'leader', applied_index: 9, commit_index: 9 }),
      node('n2', { applied_index: 7 }),
      node('n3', null, 'E_NET_TIMEOUT'),
    ]);
    const rows = table.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^node\s+client address\s+role\s+term\s+commit\s+applied\s+state hash\s+notes$/);
    expect(rows[1]).toMatch(/^n1 .* leader .* 9 +aaaaaaaaaaaaaaaa$/);
    expect(rows[2]).toMatch(/^n2 .* follower .*behind by 2, leader n1$/);
    expect(rows[3]).toMatch(/^n3 .* down .*E_NET_TIMEOUT$/);
    expect(statusTable([node('n1', {}), node('n2', { state_hash: 'b'.repeat(64) })])).toContain('DIVERGED');
  });
});
