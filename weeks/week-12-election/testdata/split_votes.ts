/**
 * Why election timeouts are randomized: three Raft cores started together, ticked in
 * lock step, every message delivered within the tick. With one fixed timeout they all
 * campaign at the same tick, each votes for itself, and no one ever wins; with timeouts
 * drawn from [electionTicks, 2 × electionTicks) one node usually starts first and wins.
 *
 *   node --import tsx weeks/week-12-election/testdata/split_votes.ts
 * @module
 */
import { seededRandom } from '../../../lib/framing.ts';
import { RaftNode, type Message } from '../../../lib/replication.ts';

const VOTERS = ['n1', 'n2', 'n3'];
const MAX_TICKS = 1000;

/** Ticks until one node leads, or null; and the highest term any node reached. */
function run(random: (id: string) => () => number): { ticks: number | null; term: number; leader: string | null } {
  const nodes = VOTERS.map((id) => new RaftNode({
    id, voters: VOTERS, electionTicks: 10, heartbeatTicks: 2, random: random(id), maxEntriesPerAppend: 8, maxCatchUpSteps: 4, checkQuorum: false,
  }, { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] }));
  for (let tick = 1; tick <= MAX_TICKS; tick++) {
    for (const n of nodes) n.tick();
    for (let round = 0; round < 10; round++) {
      const queue: Message[] = [];
      for (const n of nodes) {
        if (!n.hasReady()) continue;
        const ready = n.ready();
        n.advance(ready);
        queue.push(...ready.messages);
      }
      if (queue.length === 0) break;
      for (const m of queue) nodes.find((n) => n.id === m.to)?.step(m);
    }
    const leader = nodes.find((n) => n.role === 'leader');
    if (leader !== undefined) return { ticks: tick, term: leader.term, leader: leader.id };
  }
  return { ticks: null, term: Math.max(...nodes.map((n) => n.term)), leader: null };
}

const fixed = run(() => () => 0);
console.log(`fixed timeout (10 ticks on every node): ${fixed.ticks === null ? `no leader after ${MAX_TICKS} ticks, term ${fixed.term}` : `leader ${fixed.leader} at tick ${fixed.ticks}`}`);
const results = Array.from({ length: 200 }, (_, seed) => run((id) => seededRandom(seed * 10 + VOTERS.indexOf(id))));
const won = results.filter((r) => r.ticks !== null);
const firstTerm = won.filter((r) => r.term === 1).length;
const ticks = won.map((r) => r.ticks as number).sort((a, b) => a - b);
console.log(`randomized in [10, 20): ${won.length}/200 seeds elect a leader, ${firstTerm} in term 1; ticks to leader median ${ticks[Math.floor(ticks.length / 2)]}, max ${ticks.at(-1)}`);
