/**
 * Tests of the checked-transcript format: parsing, masks, comparison and `--update`.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findWeekFolders } from '../gates/weeks.ts';
import { compareOutput, lineDiff, maskLine, MASKS, normalizeOutput, parseChapter, ROOT_PLACEHOLDER, updateChapter } from './transcript.ts';

const CHAPTER = [
  '# A chapter',
  '',
  '```console setup',
  '$ D=/tmp/x',
  '```',
  '',
  '```console mask=dur timeout=5',
  '$ printf "a\\n" |',
  '>   wc -l',
  '1',
  '$ echo took 12ms',
  'took 12ms',
  '',
  '```',
  '',
  '```text',
  '$ not a transcript',
  '```',
].join('\n');

describe('parseChapter', () => {
  it('reads commands, continuation lines and quoted output from console fences only', () => {
    const { transcripts, problems } = parseChapter(CHAPTER);
    expect(problems).toEqual([]);
    expect(transcripts).toHaveLength(2);
    const [setup, block] = transcripts;
    expect(setup!.setup).toBe(true);
    expect(block!.timeoutS).toBe(5);
    expect(block!.masks).toEqual(['ts', 'uuid', 'dur']);
    expect(block!.commands.map((c) => [c.line, c.command, c.expected])).toEqual([
      [8, 'printf "a\\n" |\n  wc -l', ['1']],
      [11, 'echo took 12ms', ['took 12ms']],
    ]);
  });

  it('refuses output before any command, an unknown mask and a bad timeout, each at its line', () => {
    const bad = ['```console mask=nope timeout=-1', 'orphan output', '$ true', '```'].join('\n');
    const { transcripts, problems } = parseChapter(bad);
    expect(transcripts).toEqual([]);
    expect(problems.map((p) => [p.code, p.line])).toEqual([
      ['E_CHAPTER_UNKNOWN_MASK', 1],
      ['E_CHAPTER_MALFORMED', 1],
      ['E_CHAPTER_MALFORMED', 2],
    ]);
  });

  it('takes a chapter-declared mask, and reports one whose regex does not compile', () => {
    const ok = parseChapter('<!-- mask term /term \\d+/ -->\n```console mask=term\n$ true\n```\n');
    expect(ok.problems).toEqual([]);
    expect(maskLine('leader in term 17', ['term'], ok.masks)).toBe('leader in <term>');
    const broken = parseChapter('<!-- mask bad /(/ -->\n');
    expect(broken.problems.map((p) => p.code)).toEqual(['E_CHAPTER_UNKNOWN_MASK']);
  });
});

describe('masks', () => {
  it('hide each volatile part and nothing else', () => {
    expect(maskLine('at 2026-11-25T12:48:44.508Z id a20c3bef-bd36-441a-af32-8a11d2e1529f', ['ts', 'uuid'], MASKS)).toBe('at <ts> id <uuid>');
    expect(maskLine('listening on 127.0.0.1:40123 pid 991', ['port', 'pid'], MASKS)).toBe('listening on 127.0.0.1:<port> pid <pid>');
    expect(maskLine('p99 4.2 ms, 300 µs, 2s', ['dur'], MASKS)).toBe('p99 <dur>, <dur>, <dur>');
    // Without the mask the digits count.
    expect(maskLine('exit 4', ['ts', 'uuid', 'dur'], MASKS)).toBe('exit 4');
  });

  it('measured folds numbers and column padding, so only the shape is compared', () => {
    expect(maskLine('rate    1234.5 ops/s   x2', ['num'], MASKS)).toBe(maskLine('rate 99 ops/s x17', ['num'], MASKS));
  });
});

describe('normalizeOutput', () => {
  it('drops colours and trailing blank lines, and writes the repository root as the placeholder', () => {
    expect(normalizeOutput('\x1b[32mok\x1b[39m /repo/x/weeks\r\n\n\n', '/repo/x')).toEqual([`ok ${ROOT_PLACEHOLDER}/weeks`]);
    expect(normalizeOutput('', '/r')).toEqual([]);
  });
});

describe('compareOutput', () => {
  const { transcripts, masks } = parseChapter(CHAPTER);
  const block = transcripts[1]!;
  const command = block.commands[1]!;

  it('accepts output that differs only inside a mask', () => {
    expect(compareOutput(block, command, ['took 7ms'], masks)).toBeUndefined();
  });

  it('reports other differences with the command line and a diff, quoted lines first', () => {
    const problem = compareOutput(block, command, ['took 7ms', 'extra'], masks);
    expect(problem?.code).toBe('E_CHAPTER_OUTPUT_DIFFERS');
    expect(problem?.line).toBe(11);
    expect(problem?.diff).toEqual(['  took 7ms', '+ extra']);
  });
});

describe('lineDiff', () => {
  it('keeps common lines and shows a change as removal then addition', () => {
    const a = ['x', 'old', 'z'];
    const b = ['x', 'new', 'z'];
    expect(lineDiff(a, b, a, b)).toEqual(['  x', '- old', '+ new', '  z']);
  });
});

describe('updateChapter', () => {
  it('replaces outputs and keeps every command line, prompt and other fence as written', () => {
    const outputs = new Map<number, readonly string[]>([
      [8, ['1']],
      [11, ['took 9ms', 'and more']],
    ]);
    const { text, changed } = updateChapter(CHAPTER, outputs);
    expect(changed).toBe(1);
    expect(text).toBe(CHAPTER.replace('took 12ms\n\n```', 'took 9ms\nand more\n```'));
    // Rewriting is idempotent: the new text already holds these outputs.
    expect(updateChapter(text, outputs).changed).toBe(0);
  });

  it('keeps an indented fence indented', () => {
    const indented = '- step\n\n  ```console\n  $ echo hi\n  old\n  ```\n';
    const { text } = updateChapter(indented, new Map([[4, ['hi']]]));
    expect(text).toBe('- step\n\n  ```console\n  $ echo hi\n  hi\n  ```\n');
  });
});

describe('the chapters of built weeks', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const built = [...findWeekFolders(root).values()].filter((f) => f.gateFile !== undefined);

  it.each(built.map((f) => [f.name, f] as const))('%s opens with a set-up block and its transcripts are well formed', (_name, folder) => {
    const { transcripts, problems } = parseChapter(readFileSync(join(folder.dir, 'README.md'), 'utf8'));
    expect(problems).toEqual([]);
    expect(transcripts.length).toBeGreaterThan(1);
    expect(transcripts[0]!.setup).toBe(true);
    expect(transcripts.slice(1).every((t) => !t.setup)).toBe(true);
  });
});
