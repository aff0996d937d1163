#!/usr/bin/env node
// Week 11 drill: three real replica processes behind fault proxies (node_process_cluster.ts).
//
//   1. start n1..n3, wait for one leader, print every node's status line;
//   2. SIGKILL a follower, write 200 signed puts through the leader, restart it, poll
//      {"op":"status"} until every state hash agrees;
//   3. partition the leader with its proxy, send it a put (never ok), write 20 puts on the
//      other two, print the statuses (the cut-off node's commit index stands still), heal,
//      poll until the hashes agree again;
//   4. SIGTERM all three (exit 0).
//
//   node --import tsx weeks/week-11-replication/drill.mjs      one line per step; last line PASS or FAIL
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessCluster } from './node_process_cluster.ts';

const dir = mkdtempSync(join(tmpdir(), 'w11-drill-'));
const problems = [];
const show = (s) => `${s.node} ${s.role.padEnd(8)} term=${s.term} commit=${String(s.commit_index).padEnd(4)} applied=${String(s.applied_index).padEnd(4)} hash=${s.state_hash.slice(0, 16)}`;
const print = (label, statuses) => {
  console.log(label);
  for (const s of statuses) console.log(`  ${show(s)}`);
};
const check = (ok, what) => {
  if (!ok) problems.push(what);
};

const cluster = await ProcessCluster.start(join(dir, 'cluster'), { nodes: 3, tuning: { snapshot_every: 64 } });
try {
  const leader = await cluster.leader();
  await cluster.write('hello', 'motto', 'trust');
  print(`leader ${leader}; after one put:`, await cluster.converged());

  const victim = cluster.ids.find((id) => id !== leader);
  await cluster.kill(victim);
  const alive = cluster.ids.filter((id) => id !== victim);
  await cluster.writeMany('lag', 200, alive);
  print(`SIGKILL ${victim}, 200 puts on ${alive.join(',')}:`, await cluster.status(alive));
  await cluster.launch(victim);
  const caught = await cluster.converged();
  print(`${victim} restarted, polled until the hashes agree:`, caught);
  check(new Set(caught.map((s) => s.state_hash)).size === 1, 'state hashes differ after catch-up');

  const old = await cluster.leader();
  cluster.proxy(old).partition();
  const [cut] = await cluster.status([old]);
  const stranded = await cluster.send(old, cluster.signed({ op: 'put', request_id: 'cut-1', key: 'side', value: 'minority' }));
  console.log(`partition ${old}; a put sent to it answers ok=${stranded.ok} code=${stranded.code}`);
  check(stranded.ok === false, 'the cut-off leader acknowledged a write');
  const others = cluster.ids.filter((id) => id !== old);
  await cluster.writeMany('maj', 20, others);
  const during = await cluster.status();
  print(`20 puts on ${others.join(',')}:`, during);
  check(during.find((s) => s.node === old).commit_index === cut.commit_index, 'the minority commit index moved');
  cluster.proxy(old).heal();
  const healed = await cluster.converged();
  print('healed, polled until the hashes agree:', healed);
  check(new Set(healed.map((s) => s.state_hash)).size === 1, 'state hashes differ after heal');

  const codes = await cluster.terminate();
  console.log(`SIGTERM: exit codes ${codes.join(',')}`);
  check(codes.every((c) => c === 0), 'a process did not drain to exit 0');
} finally {
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
for (const p of problems) console.log(`problem: ${p}`);
console.log(problems.length === 0 ? 'PASS: drill held (catch-up and partition)' : `FAIL: ${problems.length} problem(s)`);
process.exitCode = problems.length === 0 ? 0 : 1;
