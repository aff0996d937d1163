/**
 * The week 11 gate: tests named `[11.k] <claim>` for each criterion of the gate table, on
 * three real replica processes behind fault proxies (node_process_cluster.ts), on the
 * pure core driven by hand, and in the deterministic simulator over many seeds, plus a
 * negative control per criterion: a broken variant, built here by subclassing or wrapping
 * the core, that the same check catches. No wall-clock assertions; every seed is in the
 * failure message. `npm run gate -- week-11` maps the tests to the criteria.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kvPayload } from '../../lib/kv.ts';
import { makeWorkspace, thrownCode } from '../../lib/testing.ts';
import { ProcessCluster } from './node_process_cluster.ts';
import { sweep } from './node_sim_cli.ts';
import { RaftNode } from './raft.ts';
import { RaftLog } from './raft_log.ts';
import type { AppendRequest, AppendResponse, Entry, Message, NodeId, RaftConfig, RaftRestore, Ready } from './raft_types.ts';
import { Simulation, type SimOptions } from './sim.ts';

const workspace = makeWorkspace('week11-gate');
let real: ProcessCluster;
beforeAll(async () => {
  real = await ProcessCluster.start(workspace.fresh('cluster'), { nodes: 3, tuning: { snapshot_every: 64 } });
}, 60_000);
afterAll(async () => {
  await real?.stop();
  workspace.remove();
});

const utf8 = new TextEncoder();
let puts = 0;
function put(key: string, value: string): Uint8Array {
  return kvPayload({ op: 'put', request_id: `g${++puts}`, key, value });
}

/** A simulated cluster with a leader elected (fails naming the seed when none is). */
function simWithLeader(options: SimOptions): { sim: Simulation; leader: NodeId } {
  const sim = new Simulation(options);
  expect(sim.runUntil(() => sim.leader() !== null, 500), `no leader (seed ${options.seed})`).toBe(true);
  return { sim, leader: sim.leader() as NodeId };
}

/** Proposes at whoever leads among `among` until `count` proposals were accepted, running `gap` ticks after each. */
function proposeMany(sim: Simulation, among: readonly NodeId[], count: number, prefix: string, gap = 1): void {
  for (let i = 0; i < count;) {
    const leader = sim.leader();
    if (leader !== null && among.includes(leader) && sim.propose(leader, put(`k${i % 5}`, `${prefix}${i}`)).ok) i++;
    sim.run(gap);
  }
}

/** A hand-driven node `id` of n1..n3 restarted with log `terms` (entry i has data `e<i>`), nothing committed. */
function handNode(id: NodeId, terms: readonly number[] = []): RaftNode {
  const entries: Entry[] = terms.map((term, i) => ({ index: i + 1, term, data: utf8.encode(`e${i + 1}`) }));
  const restore: RaftRestore = { hardState: { term: terms.at(-1) ?? 0, vote: null, commit: 0 }, snapshot: null, entries };
  return new RaftNode({
    id, voters: ['n1', 'n2', 'n3'], electionTicks: 10, heartbeatTicks: 2, random: () => 0.5,
    maxEntriesPerAppend: 8, maxCatchUpSteps: 4, checkQuorum: false,
  }, restore);
}

function appendReplies(ready: Ready): AppendResponse[] {
  return ready.messages.filter((m): m is AppendResponse => m.type === 'append_reply');
}

/**
 * Negative control for 11.2: a follower that trusts the leader's prevTerm. It keeps its own
 * copy of its log (from the restore and every Ready) and, when an append's prevTerm does not
 * match what it holds, rewrites the message so that it does: the consistency check is skipped.
 */
class TrustingFollower extends RaftNode {
  readonly #terms: number[] = [];
  #offset: number;

  constructor(config: RaftConfig, restore: RaftRestore) {
    super(config, restore);
    this.#offset = restore.snapshot?.index ?? 0;
    for (const e of restore.entries) this.#terms.push(e.term);
  }

  override step(message: Message): ReturnType<RaftNode['step']> {
    if (message.type !== 'append') return super.step(message);
    const mine = this.#terms[message.prevIndex - this.#offset - 1];
    const skipped: AppendRequest = mine === undefined ? message : { ...message, prevTerm: mine };
    return super.step(skipped);
  }

  override ready(): Ready {
    const ready = super.ready();
    if (ready.snapshot !== null) {
      this.#offset = ready.snapshot.index;
      this.#terms.length = 0;
    }
    const first = ready.entries[0];
    if (first !== undefined) {
      this.#terms.length = Math.min(this.#terms.length, first.index - this.#offset - 1);
      for (const e of ready.entries) this.#terms.push(e.term);
    }
    return ready;
  }
}

/**
 * A leader with a long divergent, uncommitted suffix (cut off alone while taking 30
 * proposals) rejoins a majority that moved on through several terms. Returns the refusals
 * the rejoining node sent and the simulation, converged.
 */
function divergentRejoin(seed: number, factory?: SimOptions['nodeFactory']): { sim: Simulation; old: NodeId; refusals: number } {
  const { sim, leader: old } = simWithLeader({ seed, nodes: 5, maxCatchUpSteps: 1000, maxEntriesPerAppend: 4, ...(factory === undefined ? {} : { nodeFactory: factory }) });
  proposeMany(sim, [old], 3, 'base', 5);
  sim.partition([[old]]);
  for (let i = 0; i < 30; i++) sim.propose(old, put('d', `stale${i}`));
  const rest = sim.ids.filter((id) => id !== old);
  for (let round = 0; round < 3; round++) {
    expect(sim.runUntil(() => rest.includes(sim.leader() ?? ''), 500), `seed ${seed}`).toBe(true);
    proposeMany(sim, rest, 6, `fresh${round}.`);
    sim.run(10);
    const leader = sim.leader() as NodeId;
    sim.crash(leader);
    sim.restart(leader);
  }
  let refusals = 0;
  sim.observe((m) => {
    if (m.type === 'append_reply' && m.from === old && !m.success) refusals++;
  });
  sim.heal();
  expect(sim.runUntil(() => sim.quiescent(), 1000), `no convergence (seed ${seed})`).toBe(true);
  sim.checkConverged();
  return { sim, old, refusals };
}

/**
 * 5 nodes; the leader and one follower are cut off from the other three (the old leader
 * rebuilt as `variant`, when given). 40 rounds of proposals on both sides, 5 ticks each
 * (only the minority ticks with `minorityOnly`). Returns each side's commit index and state hashes before and after.
 */
function minorityPartition(seed: number, options: { readonly variant?: SimOptions['nodeFactory']; readonly minorityOnly?: boolean } = {}) {
  const broken = new Set<NodeId>();
  const { sim, leader: old } = simWithLeader({ seed, nodes: 5, nodeFactory: withVariant(broken, options.variant) });
  proposeMany(sim, sim.ids, 3, 'before', 5);
  expect(sim.runUntil(() => sim.quiescent(), 300), `seed ${seed}`).toBe(true);
  const buddy = sim.ids.find((id) => id !== old) as NodeId;
  const minority = [old, buddy];
  const majority = sim.ids.filter((id) => !minority.includes(id));
  sim.partition([minority, majority]);
  if (options.variant !== undefined) {
    // Rebuild the old leader as the variant: same disk, different commit rule.
    broken.add(old);
    sim.crash(old);
    sim.restart(old);
  }
  const before = {
    commit: Math.max(...minority.map((id) => sim.node(id)?.commitIndex ?? 0)),
    hashes: minority.map((id) => sim.stateHash(id)),
    majorityCommit: Math.max(...majority.map((id) => sim.node(id)?.commitIndex ?? 0)),
  };
  for (let i = 0; i < 40; i++) {
    for (const id of minority) {
      const node = sim.node(id);
      if (node?.role === 'leader') sim.propose(id, put('m', `minority${i}`));
    }
    const leader = sim.leader();
    if (options.minorityOnly !== true && leader !== null && majority.includes(leader)) sim.propose(leader, put('m', `majority${i}`));
    sim.run(5, options.minorityOnly === true ? minority : undefined);
  }
  return {
    sim, old, minority, majority, before,
    after: {
      commit: Math.max(...minority.map((id) => sim.node(id)?.commitIndex ?? 0)),
      hashes: minority.map((id) => sim.stateHash(id)),
      majorityCommit: Math.max(...majority.map((id) => sim.node(id)?.commitIndex ?? 0)),
      oldRole: sim.node(old)?.role,
      minorityValue: minority.map((id) => sim.app(id).get('m')?.value ?? null),
    },
  };
}

/** Builds each node honestly, except the ids in `variantIds`, which get `variant` at their next boot. */
function withVariant(variantIds: Set<NodeId>, variant?: SimOptions['nodeFactory']): SimOptions['nodeFactory'] {
  return (config, restore) => (variant !== undefined && variantIds.has(config.id) ? variant(config, restore) : new RaftNode(config, restore));
}

/**
 * A follower crashes, the others commit 60 puts, it restarts (as `variant`, when given).
 * Odd seeds run 5 nodes, even ones 3; half the seeds compact every 16 entries, so the
 * laggard catches up through a snapshot install.
 */
function laggingFollower(seed: number, variant?: SimOptions['nodeFactory']): { sim: Simulation; lagging: NodeId } {
  const broken = new Set<NodeId>();
  const { sim, leader } = simWithLeader({ seed, nodes: seed % 2 === 0 ? 3 : 5, snapshotEvery: variant === undefined && seed % 4 < 2 ? 16 : 0, nodeFactory: withVariant(broken, variant) });
  const lagging = sim.ids.find((id) => id !== leader) as NodeId;
  sim.crash(lagging);
  proposeMany(sim, sim.ids.filter((id) => id !== lagging), 60, 'w');
  broken.add(lagging);
  sim.restart(lagging);
  return { sim, lagging };
}

/** Negative control for 11.1: a replica that never applies entry 30 (but tells the core it did). */
class SkipsOne extends RaftNode {
  #full: Ready | null = null;

  override ready(): Ready {
    const ready = super.ready();
    this.#full = ready;
    return { ...ready, committed: ready.committed.filter((e) => e.index !== 30) };
  }

  override advance(ready: Ready): void {
    super.advance(this.#full ?? ready);
  }
}

describe('week-11 · Quorum replication', () => {
  // #region gate-11-1
  it('[11.1] a follower SIGKILLed while 200 signed puts commit without it rejoins, catches up, and all three processes report the same state hash', async () => {
    const leader = await real.leader();
    await real.converged();
    const victim = real.ids.find((id) => id !== leader) as string;
    await real.kill(victim);
    const alive = real.ids.filter((id) => id !== victim);
    await real.writeMany('lag', 200, alive);
    const [ahead] = await real.status([leader]);
    await real.launch(victim);
    const all = await real.converged();
    expect(new Set(all.map((s) => s.state_hash)).size).toBe(1);
    expect(all.map((s) => s.node).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(all[0]!.applied_index).toBeGreaterThanOrEqual(ahead!.applied_index);
    expect(all[0]!.applied_index).toBeGreaterThan(200);
  }, 90_000);

  it('[11.1] in the simulator, a crashed follower that missed 60 writes catches up to the same state hash, over 40 seeds (log and snapshot catch-up)', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { sim, lagging } = laggingFollower(seed);
      expect(sim.runUntil(() => sim.quiescent(), 1000), `seed ${seed}`).toBe(true);
      const hashes = new Set(sim.ids.map((id) => sim.stateHash(id)));
      expect(hashes.size, `seed ${seed}`).toBe(1);
      expect(sim.node(lagging)!.appliedIndex, `seed ${seed}`).toBeGreaterThanOrEqual(61);
      sim.checkConverged();
    }
  });

  it('[11.1] over 300 random fault seeds (3 and 5 nodes: drops, duplicates, reordering, partitions, crashes) every node ends with the same state hash', () => {
    const three = sweep({ from: 1, seeds: 200, nodes: 3, ticks: 300 }, () => {});
    const five = sweep({ from: 1001, seeds: 100, nodes: 5, ticks: 300 }, () => {});
    expect(three.failures, JSON.stringify(three.failures.slice(0, 3))).toEqual([]);
    expect(five.failures, JSON.stringify(five.failures.slice(0, 3))).toEqual([]);
    expect(three.operations + five.operations).toBeGreaterThan(10_000);
  });

  it('[11.1] negative control: a replica that skips one entry while catching up ends with a different state hash, and the check names it', () => {
    const { sim, lagging } = laggingFollower(7, (config, restore) => new SkipsOne(config, restore));
    expect(sim.runUntil(() => sim.quiescent(), 1000)).toBe(true); // it claims to be caught up
    expect(sim.stateHash(lagging)).not.toBe(sim.stateHash(sim.leader() as NodeId));
    expect(thrownCode(() => sim.checkConverged())).toBe('E_RAFT_SAFETY');
  });
  // #endregion gate-11-1

  // #region gate-11-2
  it('[11.2] the core refuses an append whose prevTerm does not match, with conflict hints, and its log is unchanged', () => {
    const n2 = handNode('n2', [1, 1, 2, 2]);
    n2.step({ type: 'append', from: 'n1', to: 'n2', term: 3, prevIndex: 4, prevTerm: 3, entries: [{ index: 5, term: 3, data: null }], commit: 5 });
    const ready = n2.ready();
    n2.advance(ready);
    expect(appendReplies(ready)).toEqual([expect.objectContaining({ success: false, prevIndex: 4, conflictIndex: 3, conflictTerm: 2 })]);
    expect(ready.entries).toEqual([]); // nothing to persist
    expect(ready.committed).toEqual([]); // nothing to apply
    expect(n2.lastIndex).toBe(4);
    // The log is the one it had: an append that matches at 4 (term 2) commits e1..e4 as they were.
    n2.step({ type: 'append', from: 'n1', to: 'n2', term: 3, prevIndex: 4, prevTerm: 2, entries: [], commit: 4 });
    const after = n2.ready();
    expect(after.committed.map((e) => [e.index, e.term, new TextDecoder().decode(e.data!)])).toEqual([[1, 1, 'e1'], [2, 1, 'e2'], [3, 2, 'e3'], [4, 2, 'e4']]);
  });

  it('[11.2] the core refuses any append whose previous index or term it does not hold, for random logs (property)', () => {
    const logs = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 12 }).map((steps) => {
      let term = 1;
      return steps.map((s) => (term += s - 1));
    });
    fc.assert(fc.property(logs, fc.nat(16), fc.integer({ min: 1, max: 40 }), (terms, prevIndex, prevTerm) => {
      const holds = prevIndex === 0 || (prevIndex <= terms.length && terms[prevIndex - 1] === prevTerm);
      fc.pre(!holds);
      const n2 = handNode('n2', terms);
      const term = Math.max(prevTerm, terms.at(-1) ?? 0) + 1;
      n2.step({ type: 'append', from: 'n1', to: 'n2', term, prevIndex, prevTerm, entries: [{ index: prevIndex + 1, term, data: null }], commit: prevIndex + 1 });
      const ready = n2.ready();
      const [reply] = appendReplies(ready);
      expect(reply?.success).toBe(false);
      expect(ready.entries).toEqual([]);
      expect(n2.lastIndex).toBe(terms.length);
      expect(n2.commitIndex).toBe(0);
      if (prevIndex > terms.length) expect(reply).toMatchObject({ conflictIndex: terms.length + 1, conflictTerm: 0 });
      else {
        expect(reply!.conflictTerm).toBe(terms[prevIndex - 1]);
        expect(terms[reply!.conflictIndex - 1]).toBe(reply!.conflictTerm); // first index of that term
        expect(reply!.conflictIndex === 1 || terms[reply!.conflictIndex - 2] !== reply!.conflictTerm).toBe(true);
      }
    }), { seed: 11, numRuns: 300 });
  });

  it('[11.2] in the simulator, a rejoining leader with 30 divergent entries refuses mismatched appends and ends with the majority\'s log, over 10 seeds', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { sim, old, refusals } = divergentRejoin(seed);
      expect(refusals, `seed ${seed}`).toBeGreaterThan(0);
      expect(sim.app(old).get('d'), `seed ${seed}`).toBeUndefined(); // none of its 30 stale puts survived
      expect(sim.stateHash(old), `seed ${seed}`).toBe(sim.stateHash(sim.leader() as NodeId));
    }
  });

  it('[11.2] on real processes, a cut-off leader\'s uncommitted write is refused by the new majority and replaced: the rejoined node ends with the majority\'s value and state hash', async () => {
    const old = await real.leader();
    real.proxy(old).partition();
    const stranded = await real.send(old, real.signed({ op: 'put', request_id: 'div-1', key: 'div', value: 'stranded' }));
    expect(stranded['ok']).toBe(false);
    const others = real.ids.filter((id) => id !== old);
    await real.write('div-2', 'div', 'majority', others);
    await real.writeMany('div-more', 20, others);
    real.proxy(old).heal();
    const all = await real.converged();
    expect(new Set(all.map((s) => s.state_hash)).size).toBe(1);
    const leader = await real.leader();
    const read = await real.send(leader, real.signed({ op: 'get', request_id: 'div-get', key: 'div' }));
    expect(read).toMatchObject({ ok: true, value: 'majority' });
  }, 90_000);

  it('[11.2] negative control: a follower that skips the prevTerm check accepts a divergent append and the simulator reports a Log Matching breach', () => {
    const log = new RaftLog(null, [1, 1, 2].map((term, i) => ({ index: i + 1, term, data: null })), 0);
    expect(log.matchTerm(3, 3)).toBe(false); // what the real check sees
    log.appendWithTruncate([{ index: 4, term: 3, data: null }]); // what skipping it does
    expect([log.term(3), log.term(4)]).toEqual([2, 3]); // (4, 3) now follows (3, 2): the leader has (3, 3)
    const code = thrownCode(() => divergentRejoin(3, (config, restore) => new TrustingFollower(config, restore)));
    expect(code).toBe('E_RAFT_SAFETY');
  });
  // #endregion gate-11-2

  // #region gate-11-3
  it('[11.3] the core\'s leader commits an entry only once a follower\'s acknowledgement makes a majority, not on its own persisted copy', () => {
    const n1 = handNode('n1');
    for (let i = 0; i < 40 && n1.role !== 'candidate'; i++) n1.tick();
    n1.advance(n1.ready());
    n1.step({ type: 'vote_reply', from: 'n2', to: 'n1', term: n1.term, granted: true });
    expect(n1.role).toBe('leader');
    const proposal = n1.propose(put('q', 'one'));
    expect(proposal.ok).toBe(true);
    const own = n1.ready();
    n1.advance(own); // its own copy (no-op and the put) is now durable
    expect(own.committed).toEqual([]);
    expect(n1.commitIndex).toBe(0);
    n1.step({ type: 'append_reply', from: 'n2', to: 'n1', term: n1.term, success: true, prevIndex: 0, matchIndex: 2, conflictIndex: 0, conflictTerm: 0 });
    const acked = n1.ready();
    expect(n1.commitIndex).toBe(2);
    expect(acked.committed.map((e) => e.index)).toEqual([1, 2]);
  });

  it('[11.3] in the simulator, a 2-of-5 minority holding the old leader commits and applies nothing while the majority commits, and the old leader steps down (checkQuorum), over 10 seeds', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const r = minorityPartition(seed);
      expect(r.after.commit, `seed ${seed}`).toBe(r.before.commit);
      expect(r.after.hashes, `seed ${seed}`).toEqual(r.before.hashes);
      expect(r.after.majorityCommit, `seed ${seed}`).toBeGreaterThan(r.before.majorityCommit);
      expect(r.after.oldRole, `seed ${seed}`).not.toBe('leader');
      r.sim.heal();
      expect(r.sim.runUntil(() => r.sim.quiescent(), 500), `seed ${seed}`).toBe(true);
      r.sim.checkConverged();
    }
  });

  it('[11.3] on real processes, a leader cut off by its proxy acknowledges nothing and its commit index stands still while the other two commit', async () => {
    const old = await real.leader();
    await real.converged();
    real.proxy(old).partition();
    const [cut] = await real.status([old]);
    const stranded = await real.send(old, real.signed({ op: 'put', request_id: 'minority-1', key: 'side', value: 'minority' }));
    expect(stranded['ok']).toBe(false);
    expect(['E_RAFT_UNCERTAIN', 'E_RAFT_NOT_LEADER']).toContain(stranded['code']);
    const others = real.ids.filter((id) => id !== old);
    await real.writeMany('maj', 20, others);
    const [during] = await real.status([old]);
    const majority = await real.status(others);
    expect(during!.commit_index).toBe(cut!.commit_index);
    expect(during!.state_hash).toBe(cut!.state_hash);
    for (const s of majority) expect(s.commit_index).toBeGreaterThan(cut!.commit_index);
    real.proxy(old).heal();
    await real.converged();
  }, 90_000);

  it('[11.3] negative control: a leader that counts its own acknowledgement as a majority commits on the minority side', () => {
    const selfQuorum = (config: RaftConfig, restore: RaftRestore): RaftNode => new RaftNode({ ...config, voters: [config.id] }, restore);
    const r = minorityPartition(4, { variant: selfQuorum, minorityOnly: true });
    expect(r.after.commit).toBeGreaterThan(r.before.commit);
    expect(r.after.minorityValue.some((v) => v?.startsWith('minority') === true)).toBe(true);
  });
  // #endregion gate-11-3

  it('every process drains on SIGTERM and exits 0 after the drills', async () => {
    expect(await real.terminate()).toEqual([0, 0, 0]);
  }, 30_000);
});
