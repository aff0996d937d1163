/**
 * The crash-drill child: a real process that opens a DurableKv, writes, and stops dead at
 * a chosen point so the drill can SIGKILL it there; or, with `--verify`, reopens the
 * store and prints what survived. One JSON object per stdout line.
 *
 *   node --import tsx node_drill_child.ts --dir D --fsync always --count 20 --crash-at after-append --crash-lsn 7
 *   node --import tsx node_drill_child.ts --dir D --fsync always --verify --count 20
 *
 * `--writers W` runs W concurrent writers; `--checkpoint-every M` checkpoints after every
 * M acknowledged writes; `--store apply-first|ack-early` swaps in a broken store
 * of `testdata/broken_kv.ts` (the negative controls).
 * @module
 */
import { parseArgs } from 'node:util';
import { DurableKv, type CrashPoint } from './node_durable_kv.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    fsync: { type: 'string', default: 'always' },
    count: { type: 'string', default: '20' },
    writers: { type: 'string', default: '1' },
    'crash-at': { type: 'string' },
    'crash-lsn': { type: 'string', default: '1' },
    'checkpoint-every': { type: 'string', default: '0' },
    store: { type: 'string', default: 'durable' },
    verify: { type: 'boolean', default: false },
  },
});
const dir = values.dir ?? '';
const fsync = values.fsync as 'always' | 'group' | 'none';
const count = Number(values.count);
const writers = Number(values.writers);
const crashAt = values['crash-at'];
const crashLsn = Number(values['crash-lsn']);
const checkpointEvery = Number(values['checkpoint-every']);

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** Prints the point, then never returns: the drill's SIGKILL lands here. */
function holdAt(point: string, lsn: number, extra: Record<string, unknown> = {}): Promise<void> {
  emit({ event: 'crash-point', point, lsn, ...extra });
  setInterval(() => {}, 1 << 30);
  return new Promise(() => {});
}

interface Store {
  apply(command: { op: 'put'; request_id: string; key: string; value: string }): Promise<unknown>;
  get(key: string): { ok: boolean };
  checkpoint(): Promise<unknown>;
  readonly recovery: unknown;
  close(): Promise<void>;
}

let store: Store | undefined;
const hooks = {
  async at(point: CrashPoint, lsn: number): Promise<void> {
    if (point !== crashAt || lsn < crashLsn) return;
    // What a reader would see right now: the drill checks nothing seen is later lost.
    const seen = store === undefined ? [] : keys().filter((k) => store!.get(k).ok);
    await holdAt(point, lsn, { seen });
  },
  async midRecord(firstLsn: number): Promise<void> {
    if (crashAt === 'mid-record' && firstLsn >= crashLsn) await holdAt('mid-record', firstLsn);
  },
};
function keys(): string[] {
  return Array.from({ length: count }, (_, i) => `k${i}`);
}

async function openStore(): Promise<Store> {
  if (values.store === 'apply-first' || values.store === 'ack-early') {
    const { BrokenKv } = await import('./testdata/broken_kv.ts');
    return BrokenKv.open(values.store, dir, { fsync, hooks });
  }
  return DurableKv.open(dir, { fsync, hooks }) as Promise<Store>;
}

store = await openStore();
if (values.verify) {
  const present = keys().filter((k) => store!.get(k).ok);
  emit({ event: 'recovered', recovery: store.recovery, present });
  await store.close();
} else {
  emit({ event: 'open', recovery: store.recovery });
  let next = 0;
  let acked = 0;
  const writer = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await store!.apply({ op: 'put', request_id: `req-${i}`, key: `k${i}`, value: `value-${i}` });
      emit({ event: 'ack', key: `k${i}` });
      acked++;
      if (checkpointEvery > 0 && acked % checkpointEvery === 0) emit({ event: 'checkpoint', report: await store!.checkpoint() });
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  emit({ event: 'done', acked });
  await store.close();
}
