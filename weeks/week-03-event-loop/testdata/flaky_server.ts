/**
 * A negative control for the soak drill: the week's own FrameServer whose handler
 * answers every 50th request with an error reply (2 % of requests fail, twenty times
 * the soak's 0.1 % cap). Everything else about it is the real server.
 *
 *   node --import tsx testdata/flaky_server.ts server run --port 0 --log PATH
 */
import { echoHandler, errorReply } from '../handler.ts';
import { serveFromArgs } from './_entry.ts';

const echo = echoHandler();
let requests = 0;
await serveFromArgs({
  handler: (payload, context) => {
    const reply = echo(payload, context);
    if (reply.requestId === undefined) return reply; // a keep-alive
    requests += 1;
    return requests % 50 === 0 ? errorReply(reply.requestId, 'E_MESSAGE_MALFORMED', 'Cannot answer request: injected failure') : reply;
  },
});
