/**
 * Talks to a running week 12 cluster by hand: the status of every node, then one put sent
 * twice under the same request id (two envelopes), printed as the client sees them.
 *
 *   node --import tsx weeks/week-12-election/testdata/try_cluster.ts CLUSTER.json [REQUEST_ID]
 * @module
 */
import { systemClock } from '../../../lib/clock.ts';
import { sendKvFrame } from '../../../lib/kv.ts';
import { readClusterConfig, statusRequest } from '../../../lib/replication.ts';
import { loadSigner, NODE_BACKEND } from '../../../lib/signing.ts';
import { ClusterClient } from '../mod.ts';

const [path, requestId = 'permit-0917-approve'] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: try_cluster.ts CLUSTER.json [REQUEST_ID]');
const config = readClusterConfig(path);
for (const n of config.nodes) {
  const s = await sendKvFrame(n.client_port, statusRequest()).catch((e: { code?: string }) => ({ node: n.id, error: e.code }));
  console.log(JSON.stringify(s));
}
const signer = await loadSigner(`${config.client_keys}`, 'client', NODE_BACKEND, systemClock);
const client = new ClusterClient({ nodes: config.nodes.map((n) => `${n.host}:${n.client_port}`), signer });
for (let i = 0; i < 2; i++) {
  const result = await client.send({ op: 'put', request_id: requestId, key: 'permit-0917', value: 'approved' });
  console.log(JSON.stringify(result.reply ?? { error: result.error?.code }), `(${result.trace.length} attempt(s))`);
}
