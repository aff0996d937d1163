/**
 * The `cluster` command group: `civictrust cluster start` runs a replica cluster in the
 * foreground (the launcher; `npm run cluster` is the same command), `status` prints every
 * node's role, term, indexes and state hash and flags divergent ones, `put` and `get` go
 * through week 12's {@link ClusterClient} (leader hints, same request id on every retry),
 * and `kill` signals one node for a failover drill.
 * @module
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { choiceFlag, intFlag, stringFlag, type CliIo, type CommandArgs, type CommandGroup, type FlagSpec } from '../../lib/cli.ts';
import { ELECTION_ERRORS, type ClusterResult } from '../../lib/election.ts';
import { CivicError, EXIT, errorFactory, mergeCatalogs, type ExitCode } from '../../lib/errors.ts';
import { FRAME_ERRORS, firstSignal } from '../../lib/framing.ts';
import { KV_ERRORS } from '../../lib/kv.ts';
import { REPLICA_ERRORS, REPLICATION_ERRORS, readClusterConfig } from '../../lib/replication.ts';
import { SIGN_ERRORS } from '../../lib/signing.ts';
import { CLUSTER_ERRORS } from './cluster_catalog.ts';
import { divergentNodes, statusTable } from './cluster_status.ts';
import { RunningCluster, clientAddresses, clusterStatus, openClusterClient, readPids, waitForLeader } from './node_launcher.ts';

const fail = errorFactory(CLUSTER_ERRORS);
/** Every code a replica's refusal can carry, for the exit status of `put` and `get`. */
const ANSWER_CATALOG = mergeCatalogs(KV_ERRORS, REPLICA_ERRORS, REPLICATION_ERRORS, ELECTION_ERRORS, SIGN_ERRORS, FRAME_ERRORS);
/** The signals `cluster kill` may send. */
const SIGNALS = ['KILL', 'TERM', 'INT'] as const;

function valueFlag(name: string, value: string, help: string, required = false): FlagSpec {
  return { name, type: 'string', value, help, ...(required ? { required } : {}) };
}
const JSON_FLAG: FlagSpec = { name: 'json', type: 'boolean', help: 'print JSON' };
const CONFIG_FLAG = valueFlag('config', 'PATH', 'the cluster\'s cluster.json (in the directory the launcher printed)', true);

// #region cluster-start
/** Runs `cluster start`: launch, wait for a leader, print the addresses, serve until SIGINT/SIGTERM, drain. */
async function runStart(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const nodes = Number(choiceFlag(args, 'nodes', ['3', '5'] as const) ?? '3');
  const ttlRaw = stringFlag(args, 'ttl-ms');
  const ttlMs = ttlRaw === undefined ? undefined : intFlag(args, 'ttl-ms', { min: 1, max: 7 * 86_400_000, fallback: 1 });
  const leaderWaitMs = intFlag(args, 'leader-timeout-ms', { min: 1, max: 600_000, fallback: 30_000 });
  const dir = resolve(stringFlag(args, 'dir') ?? mkdtempSync(join(tmpdir(), 'civictrust-cluster-')));
  const json = args.flags.json === true;
  const progress = (line: string): void => io.stderr(`cluster: ${line}\n`);
  const stop = firstSignal(); // before any node starts: a Ctrl-C during the start still drains
  progress(`starting in ${dir}`);
  let cluster: RunningCluster;
  try {
    cluster = await RunningCluster.launch({ dir, nodes, proxies: args.flags.proxies === true, ...(ttlMs === undefined ? {} : { ttlMs }), progress });
  } catch (error) {
    stop.cancel();
    throw error;
  }
  const onExit = (): void => cluster.killAllNow(); // an exception must not leave nodes behind
  process.on('exit', onExit);
  try {
    const leader = await Promise.race([waitForLeader(cluster.config, leaderWaitMs), stop.signal.then(() => null)]);
    if (leader === null) return await drain(cluster, await stop.signal, io, json);
    const addresses = clientAddresses(cluster.config);
    const nodeInfo = cluster.config.nodes.map((n, i) => ({ id: n.id, client: addresses[i], peer: `${n.host}:${n.peer_port}`, pid: cluster.pidOf(n.id), log: cluster.logFile(n.id) }));
    io.stdout(json
      ? `${JSON.stringify({ dir, config: cluster.configPath, reused: cluster.reused, leader, launcher_pid: process.pid, nodes: nodeInfo })}\n`
      : [
        `cluster of ${nodeInfo.length} in ${dir}${cluster.reused ? ' (restarted with its data)' : ''}`,
        ...nodeInfo.map((n) => `  ${n.id}  client ${n.client}  pid ${n.pid}${n.id === leader ? '  leader' : ''}`),
        `config: ${cluster.configPath}`,
        `logs:   ${join(dir, 'logs')}/<id>.log`,
        `try:    civictrust cluster status --config ${cluster.configPath}`,
        'Ctrl-C drains every node.',
        '',
      ].join('\n'));
    return await drain(cluster, await stop.signal, io, json);
  } catch (error) {
    await cluster.stop();
    throw error;
  } finally {
    process.off('exit', onExit);
  }
}

/** SIGTERM to every node, wait, print how each exited. */
async function drain(cluster: RunningCluster, signal: string, io: CliIo, json: boolean): Promise<ExitCode> {
  io.stderr(`cluster: ${signal}: draining ${cluster.running.join(', ') || 'no running node'}\n`);
  const exits = Object.fromEntries([...(await cluster.stop()).entries()].map(([id, e]) => [id, e.signal ?? e.code]));
  io.stdout(json ? `${JSON.stringify({ stopped: signal, exits })}\n` : `stopped on ${signal}: ${Object.entries(exits).map(([id, e]) => `${id} ${e === 0 ? 'exit 0' : e}`).join(', ')}\n`);
  return EXIT.ok;
}
// #endregion cluster-start

/** Runs `cluster status`: one status request per node, a table (or JSON), divergent hashes flagged. */
async function runStatus(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const config = readClusterConfig(stringFlag(args, 'config') as string);
  const statuses = await clusterStatus(config, intFlag(args, 'timeout-ms', { min: 1, max: 600_000, fallback: 1000 }));
  const divergent = divergentNodes(statuses);
  io.stdout(args.flags.json === true ? `${JSON.stringify({ nodes: statuses, divergent })}\n` : statusTable(statuses));
  if (statuses.every((s) => s.status === null)) throw fail('E_CLUSTER_UNREACHABLE', `Cannot get the cluster's status: none of its ${statuses.length} nodes answered`);
  if (divergent.length > 0) throw fail('E_CLUSTER_DIVERGED', `Cannot vouch for the cluster: ${divergent.join(', ')} applied the same entries but report different state hashes`);
  return EXIT.ok;
}

/** Prints a client result and turns a refusal or a give-up into its error. */
function finish(result: ClusterResult, what: string, io: CliIo, json: boolean, line: () => string): ExitCode {
  if (json) io.stdout(`${JSON.stringify({ reply: result.reply, error: result.error === null ? null : { code: result.error.code, message: result.error.message }, trace: result.trace })}\n`);
  if (result.error !== null) throw result.error;
  const reply = result.reply;
  if (reply === null) throw fail('E_CLUSTER_UNREACHABLE', `Cannot ${what}: no answer`);
  if (!reply.ok) {
    const spec = ANSWER_CATALOG[reply.code];
    throw new CivicError(reply.code, `${reply.message} (refused by node ${reply.node})`, { definite: spec?.definite ?? false });
  }
  if (!json) io.stdout(line());
  return EXIT.ok;
}

/** Runs `cluster put KEY VALUE` through the cluster client. */
async function runPut(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const [key, value] = args.positionals as [string, string];
  const client = await openClusterClient(readClusterConfig(stringFlag(args, 'config') as string));
  const requestId = stringFlag(args, 'request-id') ?? io.ids.next();
  const result = await client.send({ op: 'put', request_id: requestId, key, value });
  return finish(result, `put ${key} (request ${requestId})`, io, args.flags.json === true, () => {
    const r = result.reply as { version: number; term: number; node: string; lsn: number };
    return `put ${key} version ${r.version} (request ${requestId}, term ${r.term}, node ${r.node}, index ${r.lsn}, ${result.trace.length} attempt(s))\n`;
  });
}

/** Runs `cluster get KEY`: a read through the log, so it sees every write acknowledged before it. */
async function runGet(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const [key] = args.positionals as [string];
  const client = await openClusterClient(readClusterConfig(stringFlag(args, 'config') as string));
  const result = await client.send({ op: 'get', key, request_id: stringFlag(args, 'request-id') ?? io.ids.next() });
  return finish(result, `get ${key}`, io, args.flags.json === true, () => `${(result.reply as { value: string }).value}\n`);
}

/** Runs `cluster kill ID`: signals the node's process, by the pid its launcher recorded. */
async function runKill(args: CommandArgs, io: CliIo): Promise<ExitCode> {
  const [id] = args.positionals as [string];
  const path = stringFlag(args, 'config') as string;
  const config = readClusterConfig(path);
  if (!config.nodes.some((n) => n.id === id)) throw fail('E_CLUSTER_NODE_UNKNOWN', `Cannot signal node ${id}: the cluster lists ${config.nodes.map((n) => n.id).join(', ')}`);
  const signal = `SIG${choiceFlag(args, 'signal', SIGNALS) ?? 'KILL'}` as NodeJS.Signals;
  const pid = readPids(path).nodes[id];
  if (pid === undefined) throw fail('E_CLUSTER_NOT_RUNNING', `Cannot signal node ${id}: its launcher does not run it now`);
  try {
    process.kill(pid, signal);
  } catch {
    throw fail('E_CLUSTER_NOT_RUNNING', `Cannot signal node ${id}: no process ${pid}`);
  }
  io.stdout(`sent ${signal} to ${id} (pid ${pid})\n`);
  return EXIT.ok;
}

/** The `cluster` command group. */
export const CLUSTER_COMMANDS: CommandGroup = {
  noun: 'cluster',
  summary: 'A replicated KV cluster (weeks 11 and 12): start it, read its status, put and get through it, kill a node',
  commands: [
    {
      verb: 'start',
      summary: 'Start a replica cluster, wait for a leader, print its addresses, serve until SIGINT or SIGTERM, then drain every node',
      operands: '',
      arity: { min: 0, max: 0 },
      flags: [
        valueFlag('nodes', '3|5', 'nodes of a new cluster (default 3)'),
        valueFlag('dir', 'DIR', 'the cluster directory; an existing one\'s cluster.json is reused, restarting the nodes with their data (default a new temp directory)'),
        { name: 'proxies', type: 'boolean', help: 'give a new cluster a fault proxy per node, run by the launcher' },
        valueFlag('ttl-ms', 'MS', 'how long a request id\'s first answer is kept for retries (default 600000)'),
        valueFlag('leader-timeout-ms', 'MS', 'give up when no leader is agreed on within MS (default 30000)'),
        JSON_FLAG,
      ],
      details: [
        'Progress goes to stderr; stdout gets the nodes\' client addresses and the leader once elected',
        '(one JSON line with --json), then one line when stopped. Each node logs JSON lines to',
        '<dir>/logs/<id>.log; <dir>/pids.json names the processes while the launcher runs. A new',
        'cluster gets a 400-800 ms election timeout (robust on a busy machine; see LAUNCH_TUNING).',
        'npm run cluster -- [flags] runs this command.',
      ].join('\n'),
      run: runStart,
    },
    {
      verb: 'status',
      summary: 'Print every node\'s role, term, commit and applied index and state hash; exit 8 when hashes diverge',
      operands: '',
      arity: { min: 0, max: 0 },
      flags: [CONFIG_FLAG, valueFlag('timeout-ms', 'MS', 'how long to wait for each node (default 1000)'), JSON_FLAG],
      details: 'A node behind the others is noted, not flagged: only different hashes at the same applied index are divergence (E_CLUSTER_DIVERGED).',
      run: runStatus,
    },
    {
      verb: 'put',
      summary: 'Sign KEY=VALUE with the cluster\'s client key and write it through the leader, retrying with the same request id',
      operands: 'KEY VALUE',
      arity: { min: 2, max: 2 },
      flags: [CONFIG_FLAG, valueFlag('request-id', 'ID', 'the request id (default a fresh one; reuse one to see its first answer again)'), JSON_FLAG],
      details: 'With --json: {reply, error, trace}, the trace listing every attempt (node, code, term, decision).',
      run: runPut,
    },
    {
      verb: 'get',
      summary: 'Read KEY through the leader\'s log and print its value',
      operands: 'KEY',
      arity: { min: 1, max: 1 },
      flags: [CONFIG_FLAG, valueFlag('request-id', 'ID', 'a request id for the trace (default a fresh one)'), JSON_FLAG],
      details: 'A missing key exits 4 with E_KV_NOT_FOUND. With --json: {reply, error, trace}.',
      run: runGet,
    },
    {
      verb: 'kill',
      summary: 'Send a signal to node ID of a running cluster (a failover drill)',
      operands: 'ID',
      arity: { min: 1, max: 1 },
      flags: [CONFIG_FLAG, valueFlag('signal', 'KILL|TERM|INT', 'the signal (default KILL)')],
      details: 'The pid comes from the pids.json the launcher keeps next to cluster.json. The launcher notes the exit and does not restart the node; restart it by stopping the launcher and starting it again with the same --dir.',
      run: runKill,
    },
  ],
};
