// Hashes one file in a fresh process and reports the digest and how much the
// process grew while doing it. Run: node --import tsx measure_stream.ts FILE MODE
// MODE: stream (fs stream + node:crypto), web (web ReadableStream + pure noble),
//       oneshot (read the whole file, then hash it: the unbounded way).
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { toHex } from '../hex.ts';
import { hashStream, createSha256 } from '../sha256.ts';
import { hashFile, nodeSha256 } from '../node_hash.ts';

const [file, mode] = process.argv.slice(2) as [string, string];
const mib = (n: number) => Math.round((n / 1048576) * 10) / 10;
const before = process.resourceUsage().maxRSS * 1024;
const heapBefore = process.memoryUsage().heapUsed;
let digest: Uint8Array;
let bytes: number;
if (mode === 'stream') ({ digest, bytes } = await hashFile(file));
else if (mode === 'web') {
  const web = Readable.toWeb(createReadStream(file, { highWaterMark: 64 * 1024 })) as ReadableStream<Uint8Array>;
  ({ digest, bytes } = await hashStream(web, createSha256()));
} else {
  const all = new Uint8Array(await readFile(file));
  digest = nodeSha256(all);
  bytes = all.length;
}
const after = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`${JSON.stringify({
  mode, bytes, sha256: toHex(digest),
  baselineRssMiB: mib(before), peakRssMiB: mib(after), growthMiB: mib(after - before),
  heapGrowthMiB: mib(process.memoryUsage().heapUsed - heapBefore),
})}\n`);
