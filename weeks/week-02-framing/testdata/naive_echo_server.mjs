#!/usr/bin/env node
// A deliberately naive framed echo server, for the gate's negative control. It frames
// correctly while peers behave, but assumes that a peer who starts a frame finishes
// it: a hang-up mid-frame throws inside an event handler, and the uncaught exception
// takes the whole process, and every other client, down with it.
//   node naive_echo_server.mjs    prints "listening 127.0.0.1:PORT"
import net from 'node:net';

const server = net.createServer((socket) => {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4) {
      const length = buffered.readUInt32BE(0);
      if (buffered.length < 4 + length) break;
      const text = buffered.subarray(4, 4 + length).toString('latin1').replace('"type":"echo"', '"type":"echo_reply"');
      buffered = buffered.subarray(4 + length);
      const reply = Buffer.from(text, 'latin1');
      const header = Buffer.alloc(4);
      header.writeUInt32BE(reply.length);
      socket.write(Buffer.concat([header, reply]));
    }
  });
  socket.on('end', () => {
    if (buffered.length > 0) throw new Error(`peer left ${buffered.length} bytes of an unfinished frame`);
    socket.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening 127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
