// A TCP listener that never accepts: it listens with a backlog of 1, prints its port,
// then blocks its own event loop, so libuv never calls accept(). Once the kernel's
// accept queue is full, further SYNs are dropped and a client's connect() hangs:
// the one reliable way to make a connect timeout happen on loopback.
// Usage: node blackhole_listener.mjs   (prints the port; exits after 60 s or when killed)
import net from 'node:net';

const server = net.createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(`${server.address().port}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  process.exit(0);
});
