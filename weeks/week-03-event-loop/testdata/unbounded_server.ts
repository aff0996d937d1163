/**
 * A negative control for the slow-reader drill: the week's own FrameServer with its
 * per-client limits taken away (watermark and cap both 1 TiB), so it never pauses a
 * client and never cuts one.
 *
 *   node --import tsx testdata/unbounded_server.ts server run --port 0 --log PATH
 */
import { serveFromArgs } from './_entry.ts';

const TIB = 2 ** 40;
await serveFromArgs({ limits: { lowWatermarkBytes: TIB, maxOutboundBytes: TIB } });
