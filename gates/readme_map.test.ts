/**
 * The README's world map must tell the truth: every week once, with the gate table's
 * title, marked built exactly when its chapter folder has a gate, and linked to it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GATE_TABLE } from './table.ts';
import { findWeekFolders } from './weeks.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(`${root}/README.md`, 'utf8');
/** Rows of the map: `| arc | week | chapter | status |`. */
const rows = [...readme.matchAll(/^\|[^|\n]*\|\s*(\d+)\s*\|([^|\n]+)\|\s*([^|\n]+?)\s*\|$/gm)].map((m) => ({
  week: Number(m[1]),
  chapter: (m[2] as string).trim(),
  status: m[3] as string,
}));

describe('README world map', () => {
  const built = findWeekFolders(root);

  it('lists each of the 24 weeks once, in order', () => {
    expect(rows.map((r) => r.week)).toEqual(GATE_TABLE.map((r) => r.week));
  });

  it.each(GATE_TABLE.map((r) => [r.week, r.title] as const))('week %i carries its gate-table title and honest status', (week, title) => {
    const row = rows.find((r) => r.week === week);
    const folder = built.get(week);
    const isBuilt = folder?.gateFile !== undefined;
    expect(row?.chapter).toBe(isBuilt ? `[${title}](weeks/${folder?.name}/README.md)` : title);
    expect(row?.status).toBe(isBuilt ? 'built' : 'not built yet');
  });
});
