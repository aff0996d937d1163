/**
 * The chapter's error table ("Every error, as the user sees it") cannot drift: it lists
 * the catalog's codes in the catalog's order with their exit statuses, and each quoted
 * stderr line appears in one of the chapter's checked transcripts, which
 * `npm run chapters -- check week-1` compares with what the CLI really prints.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOG_ERRORS } from './catalog.ts';
import { EXIT } from './errors.ts';

const chapter = readFileSync(new URL('README.md', import.meta.url), 'utf8').split('\n');
const HEADER = '| code | exit | how to trigger it | what stderr says |';

/** The table's rows as [code, exit, scenario, stderr line], backticks removed. */
function tableRows(): string[][] {
  const start = chapter.indexOf(HEADER);
  expect(start, `the chapter has a table headed ${HEADER}`).toBeGreaterThan(-1);
  const rows: string[][] = [];
  for (const line of chapter.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split(' | ').map((cell) => cell.trim().replace(/^`(.*)`$/, '$1')));
  }
  return rows;
}

/** Every line inside the chapter's ```console fences. */
function transcriptLines(): Set<string> {
  const lines = new Set<string>();
  let inside = false;
  for (const line of chapter) {
    if (line.startsWith('```')) inside = !inside && line.startsWith('```console');
    else if (inside) lines.add(line);
  }
  return lines;
}

/** UUIDs differ on every run; the transcript check masks them, and so does this test. */
const maskIds = (text: string): string => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>');

describe("week 1's error table", () => {
  it('lists every catalog code once, in catalog order, with its exit status', () => {
    const rows = tableRows();
    expect(rows.map((row) => row[0])).toEqual(Object.keys(LOG_ERRORS));
    for (const [code, exit] of rows) {
      expect(Number(exit), code).toBe(EXIT[LOG_ERRORS[code as keyof typeof LOG_ERRORS].exit]);
    }
  });

  it("quotes for each code an error line that the chapter's checked transcripts really print", () => {
    const printed = new Set([...transcriptLines()].map(maskIds));
    for (const [code, , , stderr] of tableRows()) {
      expect(stderr?.startsWith(`error[${code}]: `), `${code}: ${stderr}`).toBe(true);
      expect(printed.has(maskIds(stderr as string)), `${code}: ${stderr} is not in a console block`).toBe(true);
    }
  });
});
