#!/usr/bin/env node
// A negative control for the churn check: a TCP server that echoes raw bytes and
// never closes its side of a connection the peer has ended. With `allowHalfOpen`
// Node leaves the socket half-open after the peer's FIN, and since this server never
// calls end() or destroy(), every such connection keeps its descriptor (CLOSE_WAIT)
// for as long as the process lives. Prints `listening HOST:PORT` like the real one, and
// reads `--port N` (default 0) from its arguments.
import net from 'node:net';

const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  socket.on('error', () => {}); // a reset still frees the socket; only clean closes leak
  socket.on('data', (chunk) => socket.write(chunk));
  // The bug: no socket.on('end', () => socket.end()).
});
const portFlag = process.argv.indexOf('--port');
server.listen(portFlag === -1 ? 0 : Number(process.argv[portFlag + 1]), '127.0.0.1', () => {
  process.stdout.write(`listening 127.0.0.1:${server.address().port}\n`);
});
process.once('SIGTERM', () => process.exit(0));
