/**
 * The named Raft scenarios (the well-known lab tests), each run in the deterministic
 * simulator with a fixed seed, plus a sweep over 2000 random seeds with every
 * invariant checked and the client histories judged by the linearizability checker.
 * A failing seed is printed with the command that replays it.
 */
import { describe, expect, it } from 'vitest';
import { thrownCode } from '../../lib/testing.ts';
import { kvPayload } from '../../lib/kv.ts';
import { checkOperations, kvModel } from './linearizability.ts';
import { RaftNode } from './raft.ts';
import type { Message, NodeId } from './raft_types.ts';
import { RELIABLE_NETWORK, Simulation, runSeed, type SimOptions } from './sim.ts';

let putCount = 0;
function put(key = 'k', value = `v${++putCount}`): Uint8Array {
  return kvPayload({ op: 'put', request_id: `r${++putCount}`, key, value });
}

function cluster(options: Partial<SimOptions> = {}): Simulation {
  return new Simulation({ seed: 42, nodes: 3, ...options });
}

function electedLeader(sim: Simulation, maxTicks = 300): NodeId {
  expect(sim.runUntil(() => sim.leader() !== null, maxTicks), `no leader (seed ${sim.seed})`).toBe(true);
  return sim.leader() as NodeId;
}

function live(sim: Simulation): RaftNode[] {
  return sim.ids.map((id) => sim.node(id)).filter((n): n is RaftNode => n !== null);
}

/** Proposes at the leader and runs until every live node applied it; returns its index. */
function agree(sim: Simulation, data: Uint8Array = put(), maxTicks = 300): number {
  for (let attempt = 0; attempt < 20; attempt++) {
    const leader = electedLeader(sim, maxTicks);
    const result = sim.propose(leader, data);
    if (!result.ok) continue;
    const applied = sim.runUntil(() => live(sim).every((n) => n.appliedIndex >= result.index), maxTicks);
    if (applied) return result.index;
  }
  throw new Error(`no agreement (seed ${sim.seed})`);
}

describe('leader election', () => {
  it('elects one leader that every node follows, and keeps it on a quiet network', () => {
    const sim = cluster();
    const leader = electedLeader(sim, 100);
    const term = sim.node(leader)!.term;
    sim.run(200);
    expect(sim.leader()).toBe(leader);
    expect(live(sim).map((n) => [n.term, n.leader])).toEqual(sim.ids.map(() => [term, leader]));
  });

  it('elects a new leader with a higher term after the leader crashes, and the old one rejoins as follower', () => {
    const sim = cluster();
    const first = electedLeader(sim);
    const term = sim.node(first)!.term;
    sim.crash(first);
    const second = electedLeader(sim);
    expect(second).not.toBe(first);
    expect(sim.node(second)!.term).toBeGreaterThan(term);
    sim.restart(first);
    sim.run(50);
    expect(sim.node(first)!.role).toBe('follower');
    expect(sim.node(first)!.leader).toBe(second);
  });

  it('elects no leader without a quorum', () => {
    const sim = cluster({ nodes: 5 });
    electedLeader(sim);
    for (const id of ['n1', 'n2', 'n3']) sim.crash(id);
    sim.run(300);
    expect(sim.leader()).toBeNull();
  });

  it('converges on a leader after each of many random leader kills', () => {
    const sim = cluster({ nodes: 5, seed: 7 });
    for (let round = 0; round < 12; round++) {
      const leader = electedLeader(sim);
      sim.crash(leader);
      electedLeader(sim);
      sim.restart(leader);
    }
    expect(electedLeader(sim)).not.toBeNull();
  });
});

describe('log agreement', () => {
  it('applies a proposed command on every node at the same index', () => {
    const sim = cluster();
    const index = agree(sim, put('a', 'x'));
    expect(index).toBeGreaterThan(1);
    for (const id of sim.ids) expect(sim.app(id).get('a')?.value).toBe('x');
  });

  it('agrees despite a crashed follower, which catches up after its restart', () => {
    const sim = cluster();
    const leader = electedLeader(sim);
    const follower = sim.ids.find((id) => id !== leader)!;
    sim.crash(follower);
    for (let i = 0; i < 5; i++) agree(sim, put('a', `x${i}`));
    sim.restart(follower);
    expect(sim.runUntil(() => sim.app(follower).get('a')?.value === 'x4', 200)).toBe(true);
    sim.checkConverged();
  });

  it('commits nothing without a quorum, then commits once the followers return', () => {
    const sim = cluster({ checkQuorum: false });
    const leader = electedLeader(sim);
    sim.run(10);
    const before = sim.node(leader)!.commitIndex;
    const followers = sim.ids.filter((id) => id !== leader);
    for (const id of followers) sim.crash(id);
    const result = sim.propose(leader, put('a', 'lonely'));
    expect(result.ok).toBe(true);
    sim.run(100, [leader]);
    expect(sim.node(leader)!.commitIndex).toBe(before);
    for (const id of followers) sim.restart(id);
    expect(sim.runUntil(() => sim.node(leader)!.commitIndex >= (result.ok ? result.index : 0), 100, [leader])).toBe(true);
  });

  it('gives concurrent proposals distinct consecutive indexes and commits them all in order', () => {
    const sim = cluster();
    const leader = electedLeader(sim);
    const indexes = Array.from({ length: 10 }, (_, i) => sim.propose(leader, put('c', `${i}`))).map((r) => (r.ok ? r.index : -1));
    expect(new Set(indexes).size).toBe(10);
    expect(indexes).toEqual(indexes.map((_, i) => indexes[0]! + i));
    expect(sim.runUntil(() => live(sim).every((n) => n.appliedIndex >= indexes[9]!), 100)).toBe(true);
    for (const id of sim.ids) expect(sim.app(id).get('c')?.value).toBe('9');
  });

  it('overwrites the uncommitted entries of a partitioned leader when it rejoins', () => {
    const sim = cluster({ seed: 3 });
    const old = electedLeader(sim);
    agree(sim, put('k', 'committed'));
    sim.partition([[old]]);
    for (let i = 0; i < 5; i++) sim.propose(old, put('k', `lost${i}`));
    sim.run(5);
    const rest = sim.ids.filter((id) => id !== old);
    expect(sim.runUntil(() => rest.includes(sim.leader() ?? ''), 200)).toBe(true);
    const fresh = sim.leader() as NodeId;
    sim.propose(fresh, put('k', 'majority'));
    sim.run(20);
    sim.heal();
    expect(sim.runUntil(() => sim.quiescent(), 300)).toBe(true);
    for (const id of sim.ids) expect(sim.app(id).get('k')?.value).toBe('majority');
    sim.checkConverged();
  });

  it('backs a long divergent log up in O(terms) round trips, not O(entries)', () => {
    const sim = cluster({ nodes: 5, seed: 5, maxCatchUpSteps: 1000, maxEntriesPerAppend: 64 });
    const old = electedLeader(sim);
    agree(sim);
    sim.partition([[old]]);
    for (let i = 0; i < 50; i++) sim.propose(old, put('d', `stale${i}`)); // 50 divergent entries of one term
    const rest = sim.ids.filter((id) => id !== old);
    // Several terms on the majority side: each round crashes its leader after committing.
    for (let round = 0; round < 3; round++) {
      expect(sim.runUntil(() => rest.includes(sim.leader() ?? ''), 300)).toBe(true);
      const leader = sim.leader() as NodeId;
      for (let i = 0; i < 10; i++) sim.propose(leader, put('d', `fresh${round}.${i}`));
      sim.run(20);
      sim.crash(leader);
      sim.restart(leader);
    }
    const terms = new Set(sim.disk(rest[0]!).entries.map((e) => e.term)).size;
    expect(terms).toBeGreaterThanOrEqual(4);
    let refusals = 0;
    sim.observe((m) => {
      if (m.type === 'append_reply' && m.from === old && !m.success) refusals++;
    });
    sim.heal();
    expect(sim.runUntil(() => sim.quiescent(), 300)).toBe(true);
    expect(sim.app(old).get('d')?.value).toMatch(/^fresh/);
    expect(refusals).toBeGreaterThan(0);
    expect(refusals).toBeLessThanOrEqual(terms); // one entry per round trip would take ~50
    sim.checkConverged();
  });

  it('rejects an append whose prevIndex/prevTerm it does not hold, then catches up', () => {
    const sim = cluster({ maxEntriesPerAppend: 1 });
    const leader = electedLeader(sim);
    sim.run(5);
    const follower = sim.ids.find((id) => id !== leader)!;
    let dropped = false;
    sim.dropWhere((m) => {
      if (dropped || m.type !== 'append' || m.to !== follower || m.entries.length === 0) return false;
      dropped = true;
      return true;
    });
    const refusals: Message[] = [];
    sim.observe((m) => {
      if (m.type === 'append_reply' && m.from === follower && !m.success) refusals.push(m);
    });
    for (let i = 0; i < 3; i++) sim.propose(leader, put('p', `${i}`));
    expect(sim.runUntil(() => sim.quiescent(), 100)).toBe(true);
    expect(refusals.length).toBeGreaterThan(0);
    expect(sim.app(follower).get('p')?.value).toBe('2');
  });
});

describe('message counts', () => {
  it('sends only heartbeats and their replies in an idle cluster, and O(N) messages for one agreement', () => {
    const sim = cluster({ nodes: 5, electionTicks: 20, heartbeatTicks: 5 });
    electedLeader(sim);
    expect(sim.runUntil(() => sim.quiescent(), 100)).toBe(true);
    sim.resetStats();
    sim.run(100);
    const idle = sim.stats;
    expect(idle.byType.vote + idle.byType.snapshot + idle.appendsWithEntries).toBe(0);
    expect(idle.emptyAppends).toBeLessThanOrEqual((100 / 5 + 1) * 4);
    expect(idle.byType.append_reply).toBe(idle.emptyAppends);

    sim.resetStats();
    const leader = sim.leader() as NodeId;
    const r = sim.propose(leader, put());
    expect(sim.runUntil(() => live(sim).every((n) => n.appliedIndex >= (r.ok ? r.index : 0)), 20)).toBe(true);
    const one = sim.stats;
    expect(one.appendsWithEntries).toBe(4);
    const total = Object.values(one.byType).reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(6 * 4);
  });
});

describe('persistence', () => {
  it('keeps committed entries across a crash of every node, and no node votes twice in a term', () => {
    const sim = cluster({ nodes: 5, seed: 11 });
    for (let i = 0; i < 10; i++) agree(sim, put('p', `${i}`));
    const votes = new Map<string, string>();
    const recordVotes = (): void => {
      for (const id of sim.ids) {
        const { term, vote } = sim.disk(id).hardState;
        if (vote === null) continue;
        const earlier = votes.get(`${id}@${term}`);
        expect(earlier === undefined || earlier === vote, `${id} voted twice in term ${term}`).toBe(true);
        votes.set(`${id}@${term}`, vote);
      }
    };
    for (let round = 0; round < 5; round++) {
      recordVotes();
      const committed = Math.max(...live(sim).map((n) => n.commitIndex));
      for (const id of sim.ids) sim.crash(id);
      for (const id of sim.ids) sim.restart(id);
      expect(Math.max(...live(sim).map((n) => n.commitIndex))).toBe(committed);
      for (const id of sim.ids) expect(sim.app(id).get('p')?.value).toBe(`${9 + round}`);
      agree(sim, put('p', `${10 + round}`));
      recordVotes();
    }
    expect(votes.size).toBeGreaterThan(0);
  });
});

/**
 * The Raft paper's Figure 8, built step by step on five nodes. A leader of term T must
 * not commit an entry of an older term by counting its replicas: the next leader may
 * overwrite it. The negative control counts them anyway and must break State Machine
 * Safety.
 */
function figure8(nodeFactory?: SimOptions['nodeFactory']): Simulation {
  const sim = new Simulation({ seed: 8, nodes: 5, checkQuorum: false, maxEntriesPerAppend: 1, ...(nodeFactory === undefined ? {} : { nodeFactory }) });
  // (a) n1 leads; an entry of its term reaches n2 only.
  expect(sim.elect('n1')).toBe(true);
  expect(sim.runUntil(() => live(sim).every((n) => n.appliedIndex >= 1), 20, ['n1'])).toBe(true);
  sim.dropWhere((m) => m.type === 'append' && m.from === 'n1' && m.to !== 'n2' && m.entries.length > 0);
  sim.propose('n1', put('f8', 'from-n1'));
  expect(sim.runUntil(() => sim.disk('n2').entries.length >= 2, 20, ['n1'])).toBe(true);
  sim.crash('n1');
  // (b) n5 wins with n3's and n4's votes and appends its no-op at index 2, which reaches nobody.
  sim.dropWhere((m) => m.type === 'append' && m.from === 'n5' && m.entries.length > 0);
  expect(sim.elect('n5')).toBe(true);
  sim.run(3, ['n5']);
  sim.crash('n5');
  // (c) n1 returns and wins; it replicates its old-term entry at 2 to n3 and n4 (a majority
  //     with itself), but its own no-op at 3 reaches nobody.
  sim.restart('n1');
  expect(sim.elect('n1')).toBe(true);
  const term = sim.node('n1')!.term;
  sim.dropWhere((m) => m.type === 'append' && m.from === 'n1'
    && (m.to === 'n2' || (m.entries.some((e) => e.term === term) && sim.disk(m.to).entries.length >= 2)));
  sim.runUntil(() => sim.disk('n3').entries.length >= 2 && sim.disk('n4').entries.length >= 2, 40, ['n1']);
  sim.run(5, ['n1']);
  expect(sim.disk('n3').entries[1]!.term).toBeLessThan(term);
  // (d) n1 crashes; n5 (last term higher than theirs) wins and overwrites index 2.
  sim.crash('n1');
  sim.dropWhere(null);
  sim.restart('n5');
  expect(sim.elect('n5')).toBe(true);
  sim.restart('n1');
  sim.runUntil(() => sim.quiescent(), 200);
  return sim;
}

describe('Figure 8', () => {
  it('does not commit an old-term entry stored by a majority, so the next leader may overwrite it safely', () => {
    const sim = figure8();
    expect(sim.quiescent()).toBe(true);
    for (const id of sim.ids) expect(sim.disk(id).entries[1]!.data).toBeNull(); // n5's no-op won index 2
    for (const id of sim.ids) expect(sim.app(id).get('f8')).toBeUndefined();
    sim.checkConverged();
  });

  it('breaks State Machine Safety when a leader counts replicas of an old-term entry (negative control)', () => {
    class CountsOldTerms extends RaftNode {
      protected override countsReplicasAt(): boolean {
        return true;
      }
    }
    expect(thrownCode(() => figure8((config, restore) => new CountsOldTerms(config, restore)))).toBe('E_RAFT_SAFETY');
  });
});

describe('faults', () => {
  it('agrees over a network that drops, duplicates and reorders messages', () => {
    const sim = cluster({ seed: 21, network: { drop: 0.2, duplicate: 0.2, minDelay: 1, maxDelay: 6 } });
    sim.addClients(3);
    sim.run(400);
    sim.clientsActive = false;
    sim.setNetwork(RELIABLE_NETWORK);
    expect(sim.runUntil(() => sim.clientsIdle() && sim.quiescent(), 500)).toBe(true);
    sim.checkConverged();
    const history = sim.history();
    expect(history.length).toBeGreaterThan(20);
    expect(checkOperations(kvModel, history).verdict).toBe('ok');
  });

  it('ends with identical state hashes on every node after churn (crashes, restarts, partitions)', () => {
    for (const seed of [1, 2, 3]) {
      const result = runSeed(seed, { nodes: 5, ticks: 400 });
      expect(result.commitIndex).toBeGreaterThan(0);
    }
  });

  it('brings a follower far behind up to date with a snapshot install, ending with the same state hash', () => {
    const sim = cluster({ snapshotEvery: 10 });
    const leader = electedLeader(sim);
    const laggard = sim.ids.find((id) => id !== leader)!;
    sim.crash(laggard);
    for (let i = 0; i < 60; i++) agree(sim, put(`s${i % 4}`, `${i}`));
    expect(sim.disk(leader).snapshot?.index).toBeGreaterThan(sim.disk(laggard).hardState.commit);
    sim.resetStats();
    sim.restart(laggard);
    expect(sim.runUntil(() => sim.quiescent(), 200)).toBe(true);
    expect(sim.stats.byType.snapshot).toBeGreaterThan(0);
    expect(sim.disk(laggard).snapshot).not.toBeNull();
    expect(sim.stateHash(laggard)).toBe(sim.stateHash(leader));
    sim.checkConverged();
  });

  it('commits nothing in a minority partition while the majority side keeps committing', () => {
    const sim = cluster({ nodes: 5, seed: 9 });
    const old = electedLeader(sim);
    agree(sim);
    const buddy = sim.ids.find((id) => id !== old)!;
    const majority = sim.ids.filter((id) => id !== old && id !== buddy);
    sim.partition([[old, buddy], majority]);
    const minorityCommit = Math.max(sim.node(old)!.commitIndex, sim.node(buddy)!.commitIndex);
    sim.propose(old, put('m', 'minority'));
    expect(sim.runUntil(() => majority.includes(sim.leader() ?? ''), 300)).toBe(true);
    for (let i = 0; i < 5; i++) {
      const leader = sim.leader() as NodeId;
      if (majority.includes(leader)) sim.propose(leader, put('m', `majority${i}`));
      sim.run(10);
    }
    expect(Math.max(sim.node(old)!.commitIndex, sim.node(buddy)!.commitIndex)).toBe(minorityCommit);
    expect(sim.app(majority[0]!).get('m')?.value).toMatch(/^majority/);
    sim.heal();
    expect(sim.runUntil(() => sim.quiescent(), 300)).toBe(true);
    sim.checkConverged();
  });
});

describe('simulation', () => {
  it('replays a seed exactly: same history, same message counts', () => {
    const a = runSeed(77);
    const b = runSeed(77);
    expect(b.history).toEqual(a.history);
    expect(b.ticks).toBe(a.ticks);
  });

  it('reports E_RAFT_STALLED when the healed cluster cannot converge (nodes whose clocks never run)', () => {
    class NeverTimesOut extends RaftNode {
      override tick(): void {} // no election timeout, no heartbeat: no leader is ever elected
    }
    expect(thrownCode(() => runSeed(5, { nodeFactory: (config, restore) => new NeverTimesOut(config, restore) }))).toBe('E_RAFT_STALLED');
    expect(() => runSeed(5)).not.toThrow(); // the same seed with working nodes converges
  });

  it('keeps every invariant over 2000 random seeds (3 and 5 nodes), with linearizable client histories', () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 2000; seed++) {
      const nodes = seed % 5 === 0 ? 5 : 3;
      try {
        const result = runSeed(seed, { nodes, ticks: 300 });
        const verdict = checkOperations(kvModel, result.history, { maxSteps: 1_000_000 }).verdict;
        if (verdict === 'illegal') failures.push(`seed ${seed}: history not linearizable`);
      } catch (error) {
        failures.push(`seed ${seed} (${nodes} nodes): ${(error as { code?: string }).code} ${(error as Error).message}`
          + ` — replay: node --import tsx weeks/week-11-replication/node_sim_cli.ts --seeds 1 --from ${seed} --nodes ${nodes} --ticks 300`);
      }
    }
    if (failures.length > 0) console.error(failures.join('\n'));
    expect(failures).toEqual([]);
  }, 120_000);

  it('catches a tampered read: the checker rejects a history whose get saw a value never written', () => {
    const { history } = runSeed(3);
    const index = history.findIndex((o) => o.input.op === 'get' && o.output !== null);
    expect(index).toBeGreaterThanOrEqual(0);
    const tampered = history.map((o, i) => (i === index ? { ...o, output: { value: 'never-written' } } : o));
    expect(checkOperations(kvModel, tampered).verdict).toBe('illegal');
  });
});
