// A loopback server that answers every request with one scripted behaviour, for the
// chapter's commands. Usage:
//   node weeks/week-04-http-client/testdata/demo_server.mjs PORT MODE
// PORT 0 picks a free port; the `listening on` line names the one it got.
// MODE: good | malformed | silent | truncated | trickle | smuggle
// It logs one line per request on stderr (with the X-Request-Id it saw) and exits
// after 120 s.
import net from 'node:net';

const [port = '47111', mode = 'good'] = process.argv.slice(2);
const replies = {
  good: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n',
  malformed: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Broken header: yes\r\nContent-Length: 3\r\n\r\nok\n',
  truncated: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b',
  smuggle: 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
};
const server = net.createServer((socket) => {
  socket.on('error', () => {});
  let head = '';
  socket.on('data', (chunk) => {
    if (head.includes('\r\n\r\n')) return;
    head += chunk.toString('latin1');
    if (!head.includes('\r\n\r\n')) return;
    const id = /\r\nX-Request-Id: ([^\r]*)/i.exec(head)?.[1] ?? '-';
    process.stderr.write(`demo_server: ${head.split('\r\n')[0]} request_id=${id} mode=${mode}\n`);
    if (mode === 'silent') return;
    if (mode === 'trickle') {
      const bytes = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nslow!';
      let i = 0;
      const timer = setInterval(() => {
        if (socket.destroyed || i === bytes.length) return void clearInterval(timer), socket.end();
        socket.write(bytes[i++]);
      }, 25);
      return;
    }
    socket.end(Buffer.from(replies[mode] ?? replies.good, 'latin1'));
  });
});
server.listen(Number(port), '127.0.0.1', () => process.stderr.write(`demo_server: listening on 127.0.0.1:${server.address().port} (${mode})\n`));
setTimeout(() => process.exit(0), 120_000).unref();
