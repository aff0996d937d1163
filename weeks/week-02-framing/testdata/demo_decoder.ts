/**
 * The chapter's decoder demonstrations: `node --import tsx testdata/demo_decoder.ts
 * fragments|oversize|truncated`. Each prints what happens to a small stream.
 */
import { encodeFrame, FrameDecoder } from '../frame.ts';

const text = new TextEncoder();
const show = (frames: Uint8Array[]) => JSON.stringify(frames.map((f) => new TextDecoder().decode(f)));
const stream = new Uint8Array([...encodeFrame(text.encode('hello')), ...encodeFrame(text.encode('frames'))]);
const chunks = [stream.subarray(0, 2), stream.subarray(2, 7), stream.subarray(7, 12), stream.subarray(12)];

switch (process.argv[2]) {
  case 'fragments': {
    // What a reader gets if it takes each chunk for a message, as `recv` once per message would.
    console.log('one chunk = one message:');
    for (const chunk of chunks) console.log(`  ${JSON.stringify(new TextDecoder().decode(chunk))}`);
    console.log('FrameDecoder:');
    const decoder = new FrameDecoder();
    for (const chunk of chunks) {
      const frames = decoder.push(chunk);
      console.log(`  push ${chunk.length} bytes -> ${show(frames)}  state=${decoder.state} pending=${decoder.pendingBytes}`);
    }
    break;
  }
  case 'oversize': {
    let allocated = 0;
    const decoder = new FrameDecoder({ allocate: (n) => (allocated += n, new Uint8Array(n)) });
    try {
      decoder.push(new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    } catch (error) {
      console.log(`${(error as { code: string }).code}: ${(error as Error).message}`);
    }
    console.log(`state=${decoder.state} bytes allocated=${allocated}`);
    break;
  }
  case 'truncated': {
    for (const [what, bytes] of [['2 header bytes', stream.subarray(0, 2)], ['header + 3 of 5 payload bytes', stream.subarray(0, 7)]] as const) {
      const decoder = new FrameDecoder();
      decoder.push(bytes);
      try {
        decoder.end();
      } catch (error) {
        console.log(`${what}: ${(error as { code: string }).code}: ${(error as Error).message}`);
      }
    }
    break;
  }
  default:
    console.error('usage: demo_decoder.ts fragments|oversize|truncated');
    process.exitCode = 2;
}
