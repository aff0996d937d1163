#!/usr/bin/env node
// The peer of the framing benchmark: the smallest TCP echo server node:net allows. No
// framing, no parsing, no logging, no timeouts: each 'data' chunk is written straight
// back. Prints "listening 127.0.0.1:PORT" like `civictrust echo serve`; SIGTERM stops it.
import net from 'node:net';

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (chunk) => socket.write(chunk));
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening 127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
