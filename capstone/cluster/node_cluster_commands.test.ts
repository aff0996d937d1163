/**
 * The launcher and the `cluster` commands on real processes: `npm run cluster`'s entry
 * starts three week 12 replicas and prints their addresses and the leader; `status`
 * lists them; `put` and `get` go through the cluster client, a request id sent again
 * gets its first answer; `kill` SIGKILLs the leader and the next put is acknowledged by
 * another node; SIGTERM drains the launcher and its nodes to exit 0; the same `--dir`
 * starts the cluster again with its data. Refusals carry their codes and exit statuses.
 * The commands other than `start` run in process (through the same `runCli` and spec as
 * the binary); every process is killed and the workspace removed at the end.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../lib/cli.ts';
import { randomIds, systemClock } from '../../lib/clock.ts';
import { EXIT } from '../../lib/errors.ts';
import { makeWorkspace, TSX_LOADER } from '../../lib/testing.ts';
import { loadCli } from '../civictrust.ts';

const LAUNCH = fileURLToPath(new URL('./launch.ts', import.meta.url));
const workspace = makeWorkspace('cluster-cli');
const dir = workspace.fresh('cluster');
const config = join(dir, 'cluster.json');
const launchers = new Set<ChildProcess>();

/** What `cluster start --json` prints once a leader is elected. */
interface Started { dir: string; config: string; reused: boolean; leader: string; launcher_pid: number; nodes: { id: string; client: string; pid: number; log: string }[] }

/** Starts the launcher and resolves with its first stdout line, parsed. */
function launch(args: readonly string[]): Promise<{ child: ChildProcess; started: Started; exited: Promise<number | null>; stdout: () => string }> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, LAUNCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  launchers.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { launchers.delete(child); resolve(code); }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the launcher printed nothing within 60 s: ${stderr}`)), 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!stdout.includes('\n')) return;
      clearTimeout(timer);
      resolve({ child, started: JSON.parse(stdout.split('\n')[0] as string) as Started, exited, stdout: () => stdout });
    });
    void exited.then((code) => reject(new Error(`the launcher exited ${code}: ${stderr}`)));
  });
}

/** Runs one civictrust command in process and collects what it printed. */
async function civictrust(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, stdin: async function* () {}, clock: systemClock, ids: randomIds };
  const code = await runCli(argv, await loadCli(argv), io);
  return { code, stdout, stderr };
}

afterAll(async () => {
  for (const child of launchers) child.kill('SIGTERM'); // the launcher drains its nodes; they are in their own process group
  await new Promise((resolve) => setTimeout(resolve, launchers.size === 0 ? 0 : 5000));
  if (existsSync(join(dir, 'pids.json'))) {
    const pids = JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8')) as { launcher: number; nodes: Record<string, number> };
    for (const pid of [pids.launcher, ...Object.values(pids.nodes)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  workspace.remove();
}, 30_000);

describe('civictrust cluster', () => {
  it('starts three replicas, serves put/get/status through them, survives a SIGKILLed leader, drains, and restarts with its data', async () => {
    const first = await launch(['--dir', dir, '--json']);
    const { started } = first;
    expect(started).toMatchObject({ dir, config, reused: false });
    expect(started.nodes.map((n) => n.id)).toEqual(['n1', 'n2', 'n3']);
    expect(started.nodes.map((n) => n.id)).toContain(started.leader);
    expect(JSON.parse(readFileSync(join(dir, 'pids.json'), 'utf8'))).toEqual({ launcher: started.launcher_pid, nodes: Object.fromEntries(started.nodes.map((n) => [n.id, n.pid])) });

    const status = await civictrust('cluster', 'status', '--config', config, '--json');
    expect(status.code).toBe(EXIT.ok);
    const parsed = JSON.parse(status.stdout) as { nodes: { id: string; status: { role: string } | null }[]; divergent: string[] };
    expect(parsed.divergent).toEqual([]);
    expect(parsed.nodes.filter((n) => n.status?.role === 'leader').map((n) => n.id)).toEqual([started.leader]);

    const put = await civictrust('cluster', 'put', 'permit-1', 'issued', '--config', config, '--request-id', 'cli-put-1', '--json');
    expect(put.code, put.stderr).toBe(EXIT.ok);
    const putResult = JSON.parse(put.stdout) as { reply: { ok: boolean; version: number; lsn: number }; trace: { request_id: string }[] };
    expect(putResult.reply).toMatchObject({ ok: true, version: 1 });
    expect(new Set(putResult.trace.map((t) => t.request_id))).toEqual(new Set(['cli-put-1']));
    const again = await civictrust('cluster', 'put', 'permit-1', 'issued', '--config', config, '--request-id', 'cli-put-1', '--json');
    expect((JSON.parse(again.stdout) as typeof putResult).reply).toMatchObject({ version: 1, lsn: putResult.reply.lsn });
    expect(await civictrust('cluster', 'get', 'permit-1', '--config', config)).toMatchObject({ code: EXIT.ok, stdout: 'issued\n' });

    const missing = await civictrust('cluster', 'get', 'permit-0', '--config', config);
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.stderr).toMatch(/^error\[E_KV_NOT_FOUND\]: .*\nhint: /);

    const unknown = await civictrust('cluster', 'kill', 'n9', '--config', config);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toMatch(/^error\[E_CLUSTER_NODE_UNKNOWN\]/);
    const killed = await civictrust('cluster', 'kill', started.leader, '--config', config);
    expect(killed.code).toBe(EXIT.ok);
    // Until the survivors elect a leader, followers still point at the dead one: the client may use up its attempts.
    // Its error says to retry with the same request id, which is what a caller does.
    let failover = await civictrust('cluster', 'put', 'permit-2', 'issued', '--config', config, '--request-id', 'cli-put-2', '--json');
    for (let send = 2; send <= 3 && failover.code === EXIT.unavailable; send += 1) {
      expect(failover.stderr).toMatch(/^error\[E_CLIENT_(RETRIES_EXHAUSTED|DEADLINE)\]/);
      failover = await civictrust('cluster', 'put', 'permit-2', 'issued', '--config', config, '--request-id', 'cli-put-2', '--json');
    }
    expect(failover.code, failover.stderr).toBe(EXIT.ok);
    const newLeader = (JSON.parse(failover.stdout) as { reply: { node: string } }).reply.node;
    expect(newLeader).not.toBe(started.leader);
    const down = JSON.parse((await civictrust('cluster', 'status', '--config', config, '--json')).stdout) as typeof parsed;
    expect(down.nodes.find((n) => n.id === started.leader)?.status).toBeNull();

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toMatch(/\n\{"stopped":"SIGTERM","exits":\{.*\}\}\n$/);
    expect(existsSync(join(dir, 'pids.json'))).toBe(false);
    const unreachable = await civictrust('cluster', 'status', '--config', config);
    expect(unreachable.code).toBe(EXIT.unavailable);
    expect(unreachable.stderr).toMatch(/^error\[E_CLUSTER_UNREACHABLE\]/);
    const notRunning = await civictrust('cluster', 'kill', 'n1', '--config', config);
    expect(notRunning.code).toBe(EXIT.notFound);
    expect(notRunning.stderr).toMatch(/^error\[E_CLUSTER_NOT_RUNNING\]/);

    const second = await launch(['--dir', dir, '--json']);
    expect(second.started.reused).toBe(true);
    for (const key of ['permit-1', 'permit-2']) expect(await civictrust('cluster', 'get', key, '--config', config)).toMatchObject({ code: EXIT.ok, stdout: 'issued\n' });
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  }, 180_000);

  it('documents every verb and refuses a node count it does not launch, before starting anything', async () => {
    const help = await civictrust('cluster', '--help');
    for (const verb of ['start', 'status', 'put', 'get', 'kill']) expect(help.stdout).toContain(`  ${verb}`);
    const bad = await civictrust('cluster', 'start', '--nodes', '4');
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/^error\[E_USAGE_VALUE\]/);
  });
});
