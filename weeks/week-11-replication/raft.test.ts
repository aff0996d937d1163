/**
 * Unit tests of the Raft core's rules, driving single nodes by hand: the election timer,
 * the vote rule, term monotonicity and fencing, stale replies, the append consistency
 * check and its conflict hints, the commit rule (own copy counted after `advance`, only
 * current-term entries counted), batching, and Ready's ordering guarantee.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../lib/framing.ts';
import { thrownCode } from '../../lib/testing.ts';
import { RaftNode, committedBeforeSave } from './raft.ts';
import type { AppendRequest, AppendResponse, Entry, Message, RaftConfig, RaftRestore, Ready, VoteResponse } from './raft_types.ts';

const VOTERS = ['n1', 'n2', 'n3'];
const EMPTY: RaftRestore = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] };
const utf8 = new TextEncoder();

function config(id: string, overrides: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id, voters: VOTERS, electionTicks: 10, heartbeatTicks: 2, random: seededRandom(7),
    maxEntriesPerAppend: 8, maxCatchUpSteps: 4, checkQuorum: false, ...overrides,
  };
}

function entries(terms: readonly number[]): Entry[] {
  return terms.map((term, i) => ({ index: i + 1, term, data: utf8.encode(`e${i + 1}`) }));
}

function restoreWith(terms: readonly number[], term = terms.at(-1) ?? 0, commit = 0): RaftRestore {
  return { hardState: { term, vote: null, commit }, snapshot: null, entries: entries(terms) };
}

/** Takes one Ready, does what it asks (nothing to do for an in-memory test) and advances. */
function cycle(node: RaftNode): Ready {
  const ready = node.ready();
  node.advance(ready);
  return ready;
}

function tickUntil(node: RaftNode, done: () => boolean, max = 100): void {
  for (let i = 0; i < max && !done(); i++) node.tick();
}

/** A leader of term `term` for n1, elected by n2's vote. */
function leaderN1(restore: RaftRestore = EMPTY, overrides: Partial<RaftConfig> = {}): RaftNode {
  const n1 = new RaftNode(config('n1', overrides), restore);
  tickUntil(n1, () => n1.role === 'candidate');
  cycle(n1);
  n1.step({ type: 'vote_reply', from: 'n2', to: 'n1', term: n1.term, granted: true });
  expect(n1.role).toBe('leader');
  return n1;
}

function appendTo(to: string, fields: Partial<AppendRequest> & Pick<AppendRequest, 'term' | 'prevIndex' | 'prevTerm'>): AppendRequest {
  return { type: 'append', from: 'n1', to, entries: [], commit: 0, ...fields };
}

function only<T extends Message['type']>(ready: Ready, type: T): Extract<Message, { type: T }>[] {
  return ready.messages.filter((m): m is Extract<Message, { type: T }> => m.type === type);
}

describe('election timeout', () => {
  it('starts an election after a timeout drawn in [electionTicks, 2 × electionTicks)', () => {
    for (const [draw, expected] of [[0, 10], [0.5, 15], [0.9999, 19]] as const) {
      const node = new RaftNode(config('n1', { random: () => draw }), EMPTY);
      let ticks = 0;
      while (node.role === 'follower') {
        node.tick();
        ticks++;
      }
      expect(ticks).toBe(expected);
      expect(node.role).toBe('candidate');
      expect(node.term).toBe(1);
    }
  });

  it('re-draws the timeout at every reset from config.random', () => {
    const draws: number[] = [];
    const random = (): number => {
      draws.push(0.25);
      return 0.25;
    };
    const node = new RaftNode(config('n1', { random }), EMPTY);
    expect(draws).toHaveLength(1);
    tickUntil(node, () => node.role === 'candidate'); // the campaign resets the timer: a second draw
    expect(draws).toHaveLength(2);
    node.step({ type: 'append', from: 'n2', to: 'n1', term: 5, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 });
    expect(draws.length).toBeGreaterThan(2);
  });

  it('sends vote requests carrying the last log index and term, in the Ready that persists the self-vote', () => {
    const node = new RaftNode(config('n1'), restoreWith([1, 1, 2]));
    tickUntil(node, () => node.role === 'candidate');
    const ready = node.ready();
    expect(ready.hardState).toEqual({ term: 3, vote: 'n1', commit: 0 });
    expect(only(ready, 'vote').map((m) => [m.to, m.term, m.lastIndex, m.lastTerm])).toEqual([['n2', 3, 3, 2], ['n3', 3, 3, 2]]);
  });
});

describe('vote rule', () => {
  const voteFrom = (from: string, term: number, lastIndex: number, lastTerm: number): Message =>
    ({ type: 'vote', from, to: 'n2', term, lastIndex, lastTerm });
  const reply = (ready: Ready): VoteResponse => only(ready, 'vote_reply')[0] as VoteResponse;

  it('grants a vote, and the vote reply comes in the same Ready as the hard state recording it', () => {
    const n2 = new RaftNode(config('n2'), EMPTY);
    n2.step(voteFrom('n1', 1, 0, 0));
    const ready = n2.ready();
    expect(reply(ready)).toMatchObject({ granted: true, term: 1, to: 'n1' });
    expect(ready.hardState).toEqual({ term: 1, vote: 'n1', commit: 0 });
  });

  it('votes once per term: a second candidate of the same term is refused, the first asking again is granted', () => {
    const n2 = new RaftNode(config('n2'), EMPTY);
    n2.step(voteFrom('n1', 1, 0, 0));
    cycle(n2);
    n2.step(voteFrom('n3', 1, 0, 0));
    expect(reply(cycle(n2)).granted).toBe(false);
    n2.step(voteFrom('n1', 1, 0, 0));
    expect(reply(cycle(n2)).granted).toBe(true);
  });

  it('keeps its vote across a restart from the persisted hard state', () => {
    const n2 = new RaftNode(config('n2'), EMPTY);
    n2.step(voteFrom('n1', 1, 0, 0));
    const hard = cycle(n2).hardState;
    const restarted = new RaftNode(config('n2'), { hardState: hard!, snapshot: null, entries: [] });
    restarted.step(voteFrom('n3', 1, 0, 0));
    expect(reply(cycle(restarted)).granted).toBe(false);
  });

  it('withholds the vote from a candidate whose log is less up to date (lastTerm first, then lastIndex)', () => {
    const cases: [lastIndex: number, lastTerm: number, granted: boolean][] = [
      [5, 1, false], // longer but older last term
      [2, 2, false], // same last term, shorter
      [3, 2, true], // same last term, same length
      [1, 3, true], // newer last term, shorter
    ];
    for (const [lastIndex, lastTerm, granted] of cases) {
      const n2 = new RaftNode(config('n2'), restoreWith([1, 2, 2]));
      n2.step(voteFrom('n1', 4, lastIndex, lastTerm));
      expect(reply(cycle(n2)).granted, `${lastIndex}/${lastTerm}`).toBe(granted);
    }
  });

  it('becomes leader on a majority of votes and appends a no-op of its term', () => {
    const n1 = leaderN1(restoreWith([1, 1]));
    const ready = cycle(n1);
    expect(ready.entries).toEqual([{ index: 3, term: n1.term, data: null }]);
    expect(only(ready, 'append')).toHaveLength(2);
  });
});

describe('term monotonicity and fencing', () => {
  it('makes a leader that sees a higher term a follower of that term, with no vote', () => {
    const n1 = leaderN1();
    cycle(n1);
    const higher = n1.term + 3;
    n1.step({ type: 'append_reply', from: 'n2', to: 'n1', term: higher, success: false, prevIndex: 0, matchIndex: 0, conflictIndex: 0, conflictTerm: 0 });
    expect(n1.role).toBe('follower');
    expect(n1.term).toBe(higher);
    expect(cycle(n1).hardState).toMatchObject({ term: higher, vote: null });
  });

  it('answers an append from an older term with its own term and takes nothing from it', () => {
    const n2 = new RaftNode(config('n2'), restoreWith([1, 3], 3));
    const outcome = n2.step(appendTo('n2', { term: 2, prevIndex: 2, prevTerm: 3, entries: [{ index: 3, term: 2, data: null }], commit: 3 }));
    expect(outcome).toBe('E_RAFT_STALE_TERM');
    const ready = cycle(n2);
    expect(only(ready, 'append_reply')[0]).toMatchObject({ term: 3, success: false });
    expect(n2.lastIndex).toBe(2);
    expect(n2.commitIndex).toBe(0);
    expect(n2.term).toBe(3);
  });

  it('ignores a stale reply: an append success from an older term moves no progress', () => {
    const n1 = leaderN1(restoreWith([1, 1], 1));
    const term = n1.term;
    cycle(n1);
    expect(n1.step({ type: 'append_reply', from: 'n2', to: 'n1', term: term - 1, success: true, prevIndex: 2, matchIndex: 3, conflictIndex: 0, conflictTerm: 0 })).toBe('E_RAFT_STALE_TERM');
    n1.step({ type: 'append_reply', from: 'n3', to: 'n1', term: term - 1, success: true, prevIndex: 2, matchIndex: 3, conflictIndex: 0, conflictTerm: 0 });
    expect(n1.progressOf('n2')?.match).toBe(0);
    expect(cycle(n1).committed).toEqual([]);
    expect(n1.commitIndex).toBe(0);
  });

  it('ignores a vote granted in an older term', () => {
    const n1 = new RaftNode(config('n1'), EMPTY);
    tickUntil(n1, () => n1.role === 'candidate');
    tickUntil(n1, () => n1.term === 2); // a second election: term 2
    n1.step({ type: 'vote_reply', from: 'n2', to: 'n1', term: 1, granted: true });
    expect(n1.role).toBe('candidate');
  });

  it('refuses a proposal on a follower with E_RAFT_NOT_LEADER and the leader hint', () => {
    const n2 = new RaftNode(config('n2'), EMPTY);
    n2.step(appendTo('n2', { term: 1, prevIndex: 0, prevTerm: 0 }));
    expect(n2.propose(utf8.encode('x'))).toEqual({ ok: false, code: 'E_RAFT_NOT_LEADER', leader: 'n1', term: 1 });
    expect(n2.hasReady()).toBe(true); // the append reply; but no entry was appended
    expect(cycle(n2).entries).toEqual([]);
  });
});

describe('append consistency check', () => {
  it('rejects an append whose prevIndex is beyond its log, hinting its last index + 1', () => {
    const n2 = new RaftNode(config('n2'), restoreWith([1, 1]));
    n2.step(appendTo('n2', { term: 2, prevIndex: 5, prevTerm: 2, entries: [{ index: 6, term: 2, data: null }] }));
    const r = only(cycle(n2), 'append_reply')[0] as AppendResponse;
    expect(r).toMatchObject({ success: false, prevIndex: 5, conflictIndex: 3, conflictTerm: 0 });
    expect(n2.lastIndex).toBe(2);
  });

  it('rejects an append whose prevTerm does not match, hinting the first index of its conflicting term', () => {
    const n2 = new RaftNode(config('n2'), restoreWith([1, 2, 2, 2]));
    n2.step(appendTo('n2', { term: 3, prevIndex: 4, prevTerm: 3 }));
    const r = only(cycle(n2), 'append_reply')[0] as AppendResponse;
    expect(r).toMatchObject({ success: false, conflictIndex: 2, conflictTerm: 2 });
  });

  it('overwrites a conflicting uncommitted suffix and re-persists from the conflict', () => {
    const n2 = new RaftNode(config('n2'), restoreWith([1, 2, 2, 2]));
    n2.step(appendTo('n2', { term: 3, prevIndex: 1, prevTerm: 1, entries: [{ index: 2, term: 3, data: null }], commit: 2 }));
    const ready = cycle(n2);
    expect(ready.entries).toEqual([{ index: 2, term: 3, data: null }]);
    expect(n2.lastIndex).toBe(2);
    expect(ready.committed.map((e) => [e.index, e.term])).toEqual([[1, 1], [2, 3]]);
    expect(only(ready, 'append_reply')[0]).toMatchObject({ success: true, matchIndex: 2 });
  });

  it('commits only up to what the append proved it holds, not its stale suffix', () => {
    const n2 = new RaftNode(config('n2'), restoreWith([1, 1, 1, 1]));
    n2.step(appendTo('n2', { term: 2, prevIndex: 2, prevTerm: 1, commit: 4 }));
    expect(n2.commitIndex).toBe(2);
  });
});

describe('leader replication', () => {
  it('counts its own copy toward the majority only after advance, in a one-node cluster', () => {
    const solo = new RaftNode(config('n1', { voters: ['n1'] }), EMPTY);
    tickUntil(solo, () => solo.role === 'leader');
    const first = solo.ready();
    expect(first.entries).toHaveLength(1);
    expect(first.committed).toEqual([]);
    expect(solo.commitIndex).toBe(0);
    solo.advance(first);
    expect(solo.commitIndex).toBe(1);
    expect(solo.ready().committed.map((e) => e.index)).toEqual([1]);
  });

  it('sends the proposals made between two Readies in one append per follower', () => {
    const n1 = leaderN1();
    cycle(n1);
    n1.step({ type: 'append_reply', from: 'n2', to: 'n1', term: n1.term, success: true, prevIndex: 0, matchIndex: 1, conflictIndex: 0, conflictTerm: 0 });
    cycle(n1);
    for (let i = 0; i < 3; i++) expect(n1.propose(utf8.encode(`p${i}`)).ok).toBe(true);
    const toN2 = only(cycle(n1), 'append').filter((m) => m.to === 'n2');
    expect(toN2).toHaveLength(1);
    expect(toN2[0]!.entries.map((e) => e.index)).toEqual([2, 3, 4]);
  });

  it('caps each append at maxEntriesPerAppend and pipelines the rest', () => {
    const n1 = leaderN1(EMPTY, { maxEntriesPerAppend: 2 });
    cycle(n1);
    n1.step({ type: 'append_reply', from: 'n2', to: 'n1', term: n1.term, success: true, prevIndex: 0, matchIndex: 1, conflictIndex: 0, conflictTerm: 0 });
    cycle(n1);
    for (let i = 0; i < 5; i++) n1.propose(utf8.encode(`p${i}`));
    const toN2 = only(cycle(n1), 'append').filter((m) => m.to === 'n2');
    expect(toN2.map((m) => m.entries.map((e) => e.index))).toEqual([[2, 3], [4, 5], [6]]);
  });

  it('commits an entry of an earlier term only once an entry of its own term reaches a majority (Figure 8)', () => {
    // n1 holds [1@1, 2@2]; n2 holds [1@1, 2@2] too: a majority stores index 2, but it is of term 2.
    const n1 = leaderN1(restoreWith([1, 2], 3));
    const term = n1.term;
    cycle(n1); // the no-op at index 3, persisted
    n1.step({ type: 'append_reply', from: 'n2', to: 'n1', term, success: true, prevIndex: 2, matchIndex: 2, conflictIndex: 0, conflictTerm: 0 });
    cycle(n1);
    expect(n1.commitIndex).toBe(0);
    n1.step({ type: 'append_reply', from: 'n2', to: 'n1', term, success: true, prevIndex: 2, matchIndex: 3, conflictIndex: 0, conflictTerm: 0 });
    expect(n1.commitIndex).toBe(3);
  });

  it('backs up a whole term per refusal using the conflict hints', () => {
    // Leader log: 1@1 then ten entries of term 2, then its no-op; the follower has term-3 entries from index 2.
    const n1 = leaderN1(restoreWith([1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2], 4));
    cycle(n1);
    n1.step({ type: 'append_reply', from: 'n2', to: 'n1', term: n1.term, success: false, prevIndex: 11, matchIndex: 0, conflictIndex: 2, conflictTerm: 3 });
    const probe = only(cycle(n1), 'append').find((m) => m.to === 'n2');
    expect(probe?.prevIndex).toBe(1); // the leader has no term 3: jump to the follower's first index of it
  });

  it('falls back to its snapshot after maxCatchUpSteps refusals from one follower (bounded catch-up)', () => {
    const snapshot = { index: 4, term: 1, data: utf8.encode('state') };
    const restore: RaftRestore = { hardState: { term: 2, vote: null, commit: 8 }, snapshot, entries: entries([1, 1, 1, 1, 2, 2, 2, 2]).slice(4) };
    const n1 = leaderN1(restore, { maxCatchUpSteps: 2 });
    cycle(n1);
    const refuse = (prevIndex: number): Ready => {
      // A follower that only ever steps back one index: its hints give the leader nothing to skip.
      n1.step({ type: 'append_reply', from: 'n2', to: 'n1', term: n1.term, success: false, prevIndex, matchIndex: 0, conflictIndex: prevIndex, conflictTerm: 0 });
      return cycle(n1);
    };
    const first = refuse(8);
    expect(only(first, 'append').find((m) => m.to === 'n2')?.prevIndex).toBe(7);
    expect(only(first, 'snapshot')).toHaveLength(0);
    const second = refuse(7);
    expect(only(second, 'snapshot').map((m) => [m.to, m.snapshot.index])).toEqual([['n2', 4]]);
    expect(n1.progressOf('n2')?.state).toBe('snapshot');
    n1.step({ type: 'snapshot_reply', from: 'n2', to: 'n1', term: n1.term, matchIndex: 4 });
    expect(n1.progressOf('n2')).toMatchObject({ state: 'replicate', match: 4 });
    expect(only(cycle(n1), 'append').find((m) => m.to === 'n2')).toMatchObject({ prevIndex: 4, prevTerm: 1 });
  });

  it('steps down with checkQuorum when no majority answered within an election timeout', () => {
    const n1 = leaderN1(EMPTY, { checkQuorum: true });
    cycle(n1);
    for (let i = 0; i < 25 && n1.role === 'leader'; i++) n1.tick();
    expect(n1.role).toBe('follower');
  });

  it('stays leader with checkQuorum while a majority answers', () => {
    const n1 = leaderN1(EMPTY, { checkQuorum: true });
    cycle(n1);
    for (let i = 0; i < 50; i++) {
      n1.tick();
      n1.step({ type: 'append_reply', from: 'n2', to: 'n1', term: n1.term, success: true, prevIndex: 0, matchIndex: 1, conflictIndex: 0, conflictTerm: 0 });
      cycle(n1);
    }
    expect(n1.role).toBe('leader');
  });
});

describe('restore and compaction', () => {
  it('refuses a restore whose entries are not contiguous (E_RAFT_RESTORE_INVALID)', () => {
    const bad: RaftRestore = { hardState: { term: 1, vote: null, commit: 0 }, snapshot: null, entries: [{ index: 2, term: 1, data: null }] };
    expect(thrownCode(() => new RaftNode(config('n1'), bad))).toBe('E_RAFT_RESTORE_INVALID');
  });

  it('refuses to compact beyond the applied index (E_RAFT_COMPACT_INVALID)', () => {
    const node = new RaftNode(config('n1'), restoreWith([1, 1, 1], 1, 0));
    expect(thrownCode(() => node.compact({ index: 2, term: 1, data: new Uint8Array() }))).toBe('E_RAFT_COMPACT_INVALID');
  });

  it('re-applies committed entries after a restart and drops compacted ones', () => {
    const node = new RaftNode(config('n1'), restoreWith([1, 1, 1], 1, 3));
    const ready = cycle(node);
    expect(ready.committed.map((e) => e.index)).toEqual([1, 2, 3]);
    node.compact({ index: 2, term: 1, data: new Uint8Array() });
    expect(node.lastIndex).toBe(3);
    expect(node.appliedIndex).toBe(3);
  });
});

describe('committedBeforeSave', () => {
  const entry = (index: number): Entry => ({ index, term: 1, data: null });
  const ready = (committed: number[], entries: number[], snapshot = false): Ready => ({
    hardState: null, messages: [], softState: null,
    committed: committed.map(entry), entries: entries.map(entry),
    snapshot: snapshot ? { index: 2, term: 1, data: new Uint8Array(0) } : null,
  });

  it('counts the committed entries below the first entry the Ready appends', () => {
    expect(committedBeforeSave(ready([3, 4, 5], []))).toBe(3); // nothing new to persist: all were saved before
    expect(committedBeforeSave(ready([3, 4, 5, 6], [5, 6, 7]))).toBe(2); // 5 and 6 are durable only after this save
    expect(committedBeforeSave(ready([5], [5]))).toBe(0);
  });

  it('counts none when a snapshot replaces the log', () => {
    expect(committedBeforeSave(ready([3, 4], [], true))).toBe(0);
  });
});
