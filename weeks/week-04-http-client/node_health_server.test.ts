import { afterEach, describe, expect, it } from 'vitest';
import { counterIds, steppingClock } from '../../lib/clock.ts';
import { createLogger, memorySink } from '../../lib/framing.ts';
import { HealthServer, type HealthReport } from './node_health_server.ts';
import { httpRequest } from './node_http_client.ts';

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(report: () => HealthReport) {
  const log = memorySink();
  const logger = createLogger({ clock: steppingClock(Date.UTC(2026, 0, 1)), ids: counterIds('log'), sink: log.sink, fields: { node_id: 'n1' } });
  server = await HealthServer.listen({ report, logger, ids: counterIds('probe') });
  return { url: server.url, records: log.records };
}

describe('HealthServer', () => {
  it('[4.4] answers GET /healthz with the report and logs the caller\'s request id', async () => {
    const { url, records } = await start(() => ({ status: 'ok', connections: 3 }));
    const reply = await httpRequest(url, { requestId: 'probe-42' });
    expect(reply.status).toBe(200);
    expect(JSON.parse(decode(reply.body))).toEqual({ status: 'ok', connections: 3 });
    expect(reply.headers.find(([name]) => name.toLowerCase() === 'x-request-id')?.[1]).toBe('probe-42');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ request_id: 'probe-42', msg: 'http request', fields: { node_id: 'n1', path: '/healthz', status: 200, result: 'ok' } });
  });

  it('answers 503 when the report is not ok, so a load balancer stops sending traffic', async () => {
    const { url } = await start(() => ({ status: 'degraded', reason: 'draining' }));
    expect((await httpRequest(url, { requestId: 'p1' })).status).toBe(503);
  });

  it('answers 404 elsewhere and 405 for other methods, logging both as errors', async () => {
    const { url, records } = await start(() => ({ status: 'ok' }));
    expect((await httpRequest(url.replace('/healthz', '/admin'), { requestId: 'p2' })).status).toBe(404);
    const post = await httpRequest(url, { requestId: 'p3', method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(records.map((r) => [r.request_id, r.fields?.status, r.fields?.result])).toEqual([['p2', 404, 'error'], ['p3', 405, 'error']]);
  });

  it('replaces a request id of the wrong shape instead of logging what the caller sent', async () => {
    const { url, records } = await start(() => ({ status: 'ok' }));
    await httpRequest(url, { requestId: `${'x'.repeat(150)}` });
    expect(records[0]?.request_id).toBe('probe-000001');
  });

  it('answers HEAD with headers only', async () => {
    const { url } = await start(() => ({ status: 'ok' }));
    const head = await httpRequest(url, { requestId: 'p4', method: 'HEAD' });
    expect([head.status, head.body.length]).toEqual([200, 0]);
  });
});
