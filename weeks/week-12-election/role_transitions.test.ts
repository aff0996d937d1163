/**
 * The chapter's table of Raft role transitions, driven through week 11's pure core: one
 * case per row, each starting a `RaftNode` in the row's from-role, feeding it the row's
 * event and checking the to-role and the action. The last test reads the table out of
 * the chapter and compares it with these rows, so neither can change without the other.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../lib/framing.ts';
import { RaftNode, type Message, type Ready, type Role } from '../../lib/replication.ts';

const VOTERS = ['n1', 'n2', 'n3'];
const ELECTION_TICKS = 10;

/** A core for `n1` in a three-node cluster, with `checkQuorum` on (as the replica runs it). */
function node(): RaftNode {
  return new RaftNode(
    { id: 'n1', voters: VOTERS, electionTicks: ELECTION_TICKS, heartbeatTicks: 2, random: seededRandom(12), maxEntriesPerAppend: 8, maxCatchUpSteps: 4, checkQuorum: true },
    { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] },
  );
}

/** Takes the node's pending Ready (as the replica does after persisting it). */
function drain(n: RaftNode): Ready {
  const ready = n.ready();
  n.advance(ready);
  return ready;
}

/** Ticks until the role or term changes (at most two timeouts). */
function tickUntilChange(n: RaftNode): void {
  const [role, term] = [n.role, n.term];
  for (let i = 0; i < 2 * ELECTION_TICKS && n.role === role && n.term === term; i++) n.tick();
}

/** An append from `from` (empty: a heartbeat). */
function append(from: string, term: number): Message {
  return { type: 'append', from, to: 'n1', term, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 };
}

function voteReply(from: string, term: number, granted: boolean): Message {
  return { type: 'vote_reply', from, to: 'n1', term, granted };
}

/** n1 as a follower of n2 in term 1, a candidate of term 1, or the leader of term 1. */
function inRole(role: Role): RaftNode {
  const n = node();
  if (role === 'follower') n.step(append('n2', 1));
  else tickUntilChange(n);
  if (role === 'leader') n.step(voteReply('n2', 1, true));
  drain(n);
  expect([n.role, n.term]).toEqual([role, 1]);
  return n;
}

/** One row of the chapter's table, and the run of the core that shows it. */
interface Transition {
  readonly from: string;
  readonly event: string;
  readonly to: string;
  readonly action: string;
  readonly drive: () => void;
}

const ROLES: readonly Role[] = ['follower', 'candidate', 'leader'];

// The strings are the chapter's table cells, word for word.
const TRANSITIONS: readonly Transition[] = [
  {
    from: 'follower', event: 'no leader heard for its randomized election timeout', to: 'candidate',
    action: 'raises the term, votes for itself, asks every peer for a vote',
    drive: () => {
      const n = node();
      tickUntilChange(n);
      expect([n.role, n.term]).toEqual(['candidate', 1]);
      const ready = drain(n);
      expect(ready.hardState).toMatchObject({ term: 1, vote: 'n1' });
      expect(ready.messages.filter((m) => m.type === 'vote').map((m) => m.to)).toEqual(['n2', 'n3']);
    },
  },
  {
    from: 'candidate', event: 'its election timeout runs out again (a split vote)', to: 'candidate',
    action: 'raises the term again and asks again',
    drive: () => {
      const n = inRole('candidate');
      tickUntilChange(n);
      expect([n.role, n.term]).toEqual(['candidate', 2]);
      expect(drain(n).messages.filter((m) => m.type === 'vote' && m.term === 2)).toHaveLength(2);
    },
  },
  {
    from: 'candidate', event: 'votes from a majority, its own included', to: 'leader',
    action: 'appends a no-op of its term and sends appends to every peer',
    drive: () => {
      const n = inRole('candidate');
      n.step(voteReply('n2', 1, true));
      expect(n.role).toBe('leader');
      const ready = drain(n);
      expect(ready.entries).toEqual([{ index: 1, term: 1, data: null }]);
      expect(ready.messages.filter((m) => m.type === 'append').map((m) => m.to)).toEqual(['n2', 'n3']);
    },
  },
  {
    from: 'candidate', event: 'refusals from a majority', to: 'follower',
    action: 'stays in its term with no leader and waits for a new timeout',
    drive: () => {
      const n = inRole('candidate');
      n.step(voteReply('n2', 1, false));
      n.step(voteReply('n3', 1, false));
      expect([n.role, n.term, n.leader]).toEqual(['follower', 1, null]);
    },
  },
  {
    from: 'candidate', event: 'an append from a leader of its own term', to: 'follower',
    action: 'follows that leader and answers the append',
    drive: () => {
      const n = inRole('candidate');
      n.step(append('n2', 1));
      expect([n.role, n.term, n.leader]).toEqual(['follower', 1, 'n2']);
      expect(drain(n).messages).toMatchObject([{ type: 'append_reply', to: 'n2', success: true }]);
    },
  },
  {
    from: 'leader', event: 'no majority heard for an election timeout (checkQuorum)', to: 'follower',
    action: 'steps down in the same term, with no leader',
    drive: () => {
      const n = inRole('leader');
      // A new leader counts every peer as heard for its first timeout, so it steps down in the second.
      for (let i = 0; i < 2 * ELECTION_TICKS && n.role === 'leader'; i++) n.tick();
      expect([n.role, n.term, n.leader]).toEqual(['follower', 1, null]);
    },
  },
  {
    from: 'any', event: 'a message carrying a higher term', to: 'follower',
    action: 'adopts the term and forgets its vote; follows the sender of an append or snapshot',
    drive: () => {
      for (const role of ROLES) {
        const n = inRole(role);
        n.step(append('n3', 7));
        expect([n.role, n.term, n.leader], role).toEqual(['follower', 7, 'n3']);
        expect(drain(n).hardState, role).toMatchObject({ term: 7, vote: null });
      }
    },
  },
  {
    from: 'any', event: 'a request carrying a lower term', to: 'unchanged',
    action: 'refuses it with its own term, so the sender steps down',
    drive: () => {
      for (const role of ROLES) {
        const n = inRole(role);
        expect(n.step(append('n3', 0)), role).toBe('E_RAFT_STALE_TERM');
        expect([n.role, n.term], role).toEqual([role, 1]);
        expect(drain(n).messages, role).toContainEqual(expect.objectContaining({ type: 'append_reply', to: 'n3', term: 1, success: false }));
      }
    },
  },
];

/** The rows of the Markdown table headed `| from | event | to | action |` in `markdown`. */
function transitionTable(markdown: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^\|\s*from\s*\|\s*event\s*\|\s*to\s*\|\s*action\s*\|\s*$/.test(l));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (start < 0 || !line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((cell) => cell.trim().replace(/`/g, '')));
  }
  return rows;
}

describe('week-12 · the role transitions the chapter lists', () => {
  for (const t of TRANSITIONS) {
    it(`${t.from} → ${t.to} on ${t.event}`, t.drive);
  }

  it('the chapter\'s table lists exactly these transitions, in this order', () => {
    const chapter = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    expect(transitionTable(chapter)).toEqual(TRANSITIONS.map((t) => [t.from, t.event, t.to, t.action]));
  });
});
