/**
 * Tests of the fault proxy against a loopback echo server: it forwards both ways, a
 * partition drops every byte (counted) and heal cuts the damaged connection so the next
 * one starts clean, a delay keeps byte order, control commands parse strictly, and the
 * routes of a proxied cluster config isolate a node in both directions.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, thrownCode } from '../../lib/testing.ts';
import { FaultProxy, nodeProxyRoutes } from './node_fault_proxy.ts';
import { writeCluster } from './node_replica_main.ts';

const workspace = makeWorkspace('week11-proxy');
let echo: Server;
let echoPort: number;
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((ok) => echo.listen(0, '127.0.0.1', () => ok()));
  echoPort = (echo.address() as { port: number }).port;
});
afterAll(async () => {
  for (const proxy of proxies) await proxy.close();
  await new Promise<void>((ok) => echo.close(() => ok()));
  workspace.remove();
});

async function startProxy(): Promise<FaultProxy> {
  const proxy = await FaultProxy.start([{ listen: { host: '127.0.0.1', port: 0 }, target: { host: '127.0.0.1', port: echoPort } }]);
  proxies.push(proxy);
  return proxy;
}

/** A client that collects everything echoed back. */
async function client(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((ok, ko) => socket.once('connect', ok).once('error', ko));
  let text = '';
  socket.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  socket.on('error', () => {});
  const closed = new Promise<void>((ok) => socket.once('close', () => ok()));
  return { socket, received: () => text, closed };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

describe('FaultProxy', () => {
  it('forwards bytes both ways', async () => {
    const proxy = await startProxy();
    const c = await client(proxy.ports[0] as number);
    c.socket.write('hello');
    await until(() => c.received() === 'hello', 'the echo');
    c.socket.destroy();
  });

  it('drops every byte while partitioned, then heal cuts the damaged connection and a new one works', async () => {
    const proxy = await startProxy();
    const c = await client(proxy.ports[0] as number);
    proxy.partition();
    c.socket.write('lost');
    await until(() => proxy.state.dropped_bytes === 4, 'the drop to be counted');
    expect(c.received()).toBe('');
    proxy.heal();
    await c.closed; // cut: its stream lost bytes
    const fresh = await client(proxy.ports[0] as number);
    fresh.socket.write('again');
    await until(() => fresh.received() === 'again', 'the echo after heal');
    fresh.socket.destroy();
  });

  it('keeps byte order when a delay is set and then removed', async () => {
    const proxy = await startProxy();
    const c = await client(proxy.ports[0] as number);
    proxy.delay(80);
    c.socket.write('a');
    proxy.delay(0);
    c.socket.write('b'); // must not overtake the delayed 'a'
    await until(() => c.received().length === 2, 'both bytes');
    expect(c.received()).toBe('ab');
    c.socket.destroy();
  });

  it('parses control commands strictly', async () => {
    const proxy = await startProxy();
    expect(proxy.command('partition')).toMatchObject({ partitioned: true });
    expect(proxy.command('delay 25')).toMatchObject({ delay_ms: 25 });
    expect(proxy.command(' heal ')).toMatchObject({ partitioned: false, delay_ms: 0 });
    expect(proxy.command('status')).toMatchObject({ partitioned: false });
    for (const bad of ['partition now', 'delay', 'delay -1', 'delay 1.5', 'explode']) {
      expect(thrownCode(() => proxy.command(bad))).toBe('E_PROXY_COMMAND_INVALID');
    }
  });

  it('gives a proxied node one ingress and one egress route per peer, chained into the peers\' ingress', async () => {
    const { config } = await writeCluster(workspace.fresh('cluster'), { nodes: 3, proxies: true });
    const [n1, n2] = config.nodes;
    const routes = nodeProxyRoutes(config, 'n1');
    expect(routes).toHaveLength(3);
    expect(routes[0]).toEqual({ listen: { host: '127.0.0.1', port: n1?.proxy?.port }, target: { host: '127.0.0.1', port: n1?.peer_port } });
    expect(routes[1]).toEqual({ listen: { host: '127.0.0.1', port: n1?.proxy?.egress['n2'] }, target: { host: '127.0.0.1', port: n2?.proxy?.port } });
  });
});
