/**
 * The choice readers every command uses for a fixed set of values: absent is no choice,
 * a listed value is returned typed, and anything else is a usage error (`E_USAGE_VALUE`).
 */
import { describe, expect, it } from 'vitest';
import { choiceFlag, choiceListFlag, type CommandArgs } from './cli.ts';
import { thrownCode } from './thrown_code.ts';

const POLICIES = ['always', 'group', 'none'] as const;
const args = (flags: CommandArgs['flags']): CommandArgs => ({ positionals: [], flags });

describe('choice flags', () => {
  it('choiceFlag returns the value given, or undefined when absent', () => {
    expect(choiceFlag(args({ fsync: 'group' }), 'fsync', POLICIES)).toBe('group');
    expect(choiceFlag(args({}), 'fsync', POLICIES)).toBeUndefined();
    expect(thrownCode(() => choiceFlag(args({ fsync: 'sometimes' }), 'fsync', POLICIES))).toBe('E_USAGE_VALUE');
  });

  it('choiceListFlag checks every repetition and refuses a comma list as one unknown value', () => {
    expect(choiceListFlag(args({ fsync: ['group', 'none'] }), 'fsync', POLICIES)).toEqual(['group', 'none']);
    expect(choiceListFlag(args({}), 'fsync', POLICIES)).toEqual([]);
    expect(thrownCode(() => choiceListFlag(args({ fsync: ['group', 'group,none'] }), 'fsync', POLICIES))).toBe('E_USAGE_VALUE');
  });
});
