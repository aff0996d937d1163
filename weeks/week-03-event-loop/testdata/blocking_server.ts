/**
 * A negative control for the loop-delay check: the week's own FrameServer with a
 * handler that busy-waits 300 ms before each echo, the way a synchronous hash of a
 * large document, a `readFileSync` or a catastrophic regular expression would. The
 * loop cannot run a timer or read a socket until the handler returns.
 *
 *   node --import tsx testdata/blocking_server.ts server run --port 0 --log PATH
 */
import { echoHandler } from '../handler.ts';
import { serveFromArgs } from './_entry.ts';

const echo = echoHandler();
await serveFromArgs({
  handler: (payload, context) => {
    const until = performance.now() + 300;
    while (performance.now() < until); // the bug under test: a blocking call on the loop
    return echo(payload, context);
  },
});
