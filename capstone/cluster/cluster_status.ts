/**
 * Reading a cluster's status replies: which leader a majority agrees on, which replicas
 * diverge, and the table `civictrust cluster status` prints.
 *
 * Replicas at different applied indexes may well hold different state hashes (one is
 * behind); that is lag, not divergence. Two replicas that applied the SAME number of
 * entries must hold the same state, so a hash that differs at one applied index is the
 * thing to flag.
 * @module
 */
import type { StatusReply } from '../../lib/replication.ts';

/** One node's answer to a status request, or why it gave none. */
export interface NodeStatus {
  /** The node id from the cluster config. */
  readonly id: string;
  /** Its client address, `host:port`. */
  readonly address: string;
  /** Its status reply; null when it did not answer. */
  readonly status: StatusReply | null;
  /** The code of the failure when it did not answer (`E_NET_REFUSED`, `E_NET_TIMEOUT`, …); null otherwise. */
  readonly error: string | null;
}

/**
 * The leader a majority of the cluster's nodes agree on: it calls itself leader, and more
 * than half of all `voters` report it as leader in its term.
 * @param voters - how many nodes the cluster has (down ones included)
 * @returns its id, or null while there is none
 */
export function agreedLeader(statuses: readonly NodeStatus[], voters: number): string | null {
  const leaders = statuses.flatMap((s) => (s.status?.role === 'leader' ? [s.status] : []));
  for (const leader of leaders) {
    const agree = statuses.filter((s) => s.status !== null && s.status.leader === leader.node && s.status.term === leader.term).length;
    if (agree * 2 > voters) return leader.node;
  }
  return null;
}

/** The ids of answering nodes whose state hash differs from another node's at the same applied index. */
export function divergentNodes(statuses: readonly NodeStatus[]): string[] {
  const byIndex = new Map<number, NodeStatus[]>();
  for (const s of statuses) {
    if (s.status === null) continue;
    const group = byIndex.get(s.status.applied_index) ?? [];
    group.push(s);
    byIndex.set(s.status.applied_index, group);
  }
  const divergent: string[] = [];
  for (const group of byIndex.values()) {
    if (new Set(group.map((s) => s.status?.state_hash)).size > 1) divergent.push(...group.map((s) => s.id));
  }
  return divergent.sort();
}

/** True when every node answered and all report the same applied index and state hash. */
export function converged(statuses: readonly NodeStatus[]): boolean {
  const first = statuses[0]?.status;
  return first !== undefined && first !== null
    && statuses.every((s) => s.status !== null && s.status.applied_index === first.applied_index && s.status.state_hash === first.state_hash);
}

/**
 * The status table: one row per node, with a note for the leader, a node behind the
 * highest applied index, a divergent hash, and a node that did not answer.
 */
export function statusTable(statuses: readonly NodeStatus[]): string {
  const divergent = new Set(divergentNodes(statuses));
  const top = Math.max(0, ...statuses.map((s) => s.status?.applied_index ?? 0));
  const rows = statuses.map((s) => {
    const st = s.status;
    if (st === null) return [s.id, s.address, 'down', '-', '-', '-', '-', s.error ?? 'no answer'];
    const notes = [
      ...(divergent.has(s.id) ? ['DIVERGED'] : []),
      ...(st.applied_index < top ? [`behind by ${top - st.applied_index}`] : []),
      ...(st.role !== 'leader' && st.leader !== null ? [`leader ${st.leader}`] : []),
    ];
    return [s.id, s.address, st.role, String(st.term), String(st.commit_index), String(st.applied_index), st.state_hash.slice(0, 16), notes.join(', ')];
  });
  const all = [['node', 'client address', 'role', 'term', 'commit', 'applied', 'state hash', 'notes'], ...rows];
  const widths = all[0]?.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length))) ?? [];
  return `${all.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n')}\n`;
}
