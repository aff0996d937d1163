#!/usr/bin/env node
// Raw TCP peers for the chapter's transcripts.
//   node demo_peers.mjs PORT timeouts   one idle connection and one that stops mid-frame;
//                                       prints when the server closed each
//   node demo_peers.mjs PORT inflight   sends 30 bytes of a request, waits 1000 ms (send the server
//                                       SIGTERM meanwhile), sends the rest, prints the reply
import net from 'node:net';

const [port, mode] = [Number(process.argv[2]), process.argv[3]];
const open = () => new Promise((resolve) => { const s = net.connect(port, '127.0.0.1', () => resolve(s)); s.on('error', () => {}); });
const started = Date.now();
const closedAfter = (socket, name) => new Promise((resolve) => socket.once('close', () => {
  console.log(`${name}: closed by the server after ${Math.round((Date.now() - started) / 100) * 100} ms`);
  resolve();
}));

function request(id, body) {
  const payload = Buffer.concat([Buffer.from(`${JSON.stringify({ v: 1, type: 'echo', request_id: id })}\n`), Buffer.from(body)]);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length);
  return Buffer.concat([header, payload]);
}

if (mode === 'timeouts') {
  const idle = await open();
  const stalled = await open();
  stalled.write(request('demo-stalled', 'x'.repeat(100)).subarray(0, 20)); // 20 bytes of a 152-byte frame
  await Promise.all([closedAfter(idle, 'idle'), closedAfter(stalled, 'stalled')]);
} else if (mode === 'inflight') {
  const socket = await open();
  const frame = request('demo-inflight', 'finished after SIGTERM');
  socket.write(frame.subarray(0, 30));
  console.log('sent 30 bytes, waiting 1000 ms');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  socket.write(frame.subarray(30));
  socket.once('data', (reply) => {
    console.log(`reply: ${JSON.stringify(reply.subarray(4).toString())}`);
    socket.end();
  });
} else {
  console.error('usage: demo_peers.mjs PORT timeouts|inflight');
  process.exitCode = 2;
}
