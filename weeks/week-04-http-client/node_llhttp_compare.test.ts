/**
 * The tricky-response corpus: our verdicts are pinned, and where the corpus says we
 * agree with Node's llhttp, llhttp is asked too, over a real loopback connection.
 * Where we deliberately differ, only our verdict is pinned (llhttp's may change
 * between Node versions).
 */
import { describe, expect, it } from 'vitest';
import { TRICKY_CASES, llhttpVerdict, ourVerdict } from './node_llhttp_compare.ts';

describe('tricky responses, against Node\'s llhttp', () => {
  it.each(TRICKY_CASES)('$name: ours is $ours', async ({ text, ours, llhttp }) => {
    expect(ourVerdict(text)).toBe(ours);
    if (llhttp === 'agree') expect((await llhttpVerdict(text)) === 'ok').toBe(ours === 'ok');
  });

  it('explains every deliberate difference', () => {
    for (const c of TRICKY_CASES) expect(c.llhttp === 'differ', c.name).toBe(c.why !== undefined);
  });
});
