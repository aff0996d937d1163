/**
 * Shape checks on the gate table: 24 weeks in order, 6 arcs of 4, criterion ids
 * numbered `week.n` without gaps or repeats, and week 1's fixed criteria.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { ARCS, GATE_TABLE, gateRow } from './table.ts';

describe('GATE_TABLE', () => {
  it('has 24 rows, one per week, in week order', () => {
    expect(GATE_TABLE.map((row) => row.week)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
  });

  it('numbers each week\'s criteria week.1, week.2, … and no id appears twice', () => {
    const ids = GATE_TABLE.flatMap((row) => row.criteria.map((criterion) => criterion.id));
    expect(new Set(ids).size).toBe(ids.length);
    for (const row of GATE_TABLE) {
      expect(row.criteria.map((criterion) => criterion.id)).toEqual(row.criteria.map((_, i) => `${row.week}.${i + 1}`));
    }
  });

  it('gives week 1 its seven fixed criteria and every later week two to four', () => {
    expect(gateRow(1).criteria.map((criterion) => criterion.id)).toEqual(['1.1', '1.2', '1.3', '1.4', '1.5', '1.6', '1.7']);
    expect(gateRow(1).criteria[1]?.text).toContain('exits 5 with E_PATH_PERMISSION');
    for (const row of GATE_TABLE.slice(1)) {
      expect(row.criteria.length, `week ${row.week}`).toBeGreaterThanOrEqual(2);
      expect(row.criteria.length, `week ${row.week}`).toBeLessThanOrEqual(4);
    }
  });

  it('fills every text field of every row and criterion', () => {
    for (const row of GATE_TABLE) {
      for (const text of [row.title, row.theme, row.mustShow, row.drill, row.passIf]) expect(text.trim()).not.toBe('');
      for (const criterion of row.criteria) expect(criterion.text.trim()).not.toBe('');
    }
  });
});

describe('ARCS', () => {
  it('has 6 arcs of 4 consecutive weeks, one per month, matching each row\'s arc', () => {
    expect(ARCS.map((arc) => [arc.arc, arc.month])).toEqual([1, 2, 3, 4, 5, 6].map((n) => [n, n]));
    expect(ARCS.flatMap((arc) => arc.weeks)).toEqual(GATE_TABLE.map((row) => row.week));
    for (const arc of ARCS) {
      expect(arc.weeks).toHaveLength(4);
      for (const week of arc.weeks) expect(gateRow(week).arc).toBe(arc.arc);
    }
  });
});

describe('gateRow', () => {
  it('returns the row of the week asked for', () => {
    expect(gateRow(10).week).toBe(10);
    expect(gateRow(24).title).toBe(GATE_TABLE[23]?.title);
  });

  it.each([0, 25, -1, 1.5, Number.NaN])('throws a RangeError for week %s', (week) => {
    expect(() => gateRow(week)).toThrow(RangeError);
  });
});
