/**
 * A writer process for the concurrency test: appends COUNT records to FILE as
 * writer NAME, each message `NAME:SEQ:` followed by a run of one letter, so that a
 * record torn or spliced with another writer's bytes can never pass as whole.
 * Sizes swing from a few bytes to about 60 KiB, well past PIPE_BUF and a page.
 * Usage: node --import tsx append_many.ts FILE NAME COUNT
 * @module
 */
import { LogWriter } from '../node_log_file.ts';

const [file, name, count] = process.argv.slice(2);
const writer = await LogWriter.open(file as string);
for (let seq = 0; seq < Number(count); seq += 1) {
  const size = [8, 300, 5_000, 20_000, 60_000][seq % 5] as number;
  const letter = String.fromCharCode(97 + ((seq + (name as string).length) % 26));
  await writer.append({
    ts: new Date(Date.UTC(2026, 0, 1) + seq).toISOString(),
    id: `${name}-${seq}`,
    level: 'info',
    msg: `${name}:${seq}:${letter.repeat(size)}`,
    fields: { writer: name as string, seq },
  });
}
await writer.close();
