#!/usr/bin/env node
// A client that dies mid-frame: connects, sends a frame header announcing ANNOUNCED
// payload bytes, sends only SENT of them, prints "sent", then waits to be killed.
//   node half_frame_client.mjs PORT [ANNOUNCED=1000] [SENT=100]
import net from 'node:net';

const [port, announced = '1000', sent = '100'] = process.argv.slice(2);
const socket = net.connect(Number(port), '127.0.0.1', () => {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(Number(announced));
  socket.write(Buffer.concat([header, Buffer.alloc(Number(sent), 0x61)]), () => process.stdout.write('sent\n'));
});
socket.on('error', (error) => {
  process.stderr.write(`half_frame_client: ${error.message}\n`);
  process.exit(3);
});
setInterval(() => {}, 1 << 30); // stay alive until SIGKILL
