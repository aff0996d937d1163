/**
 * The Node driver with a real interval: expiry is never early on the driver's own
 * clock, activity pushes a deadline back, the interval only runs while something
 * is scheduled, and it never keeps a process alive.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TSX_LOADER } from '../../lib/testing.ts';
import { NodeTimerDriver } from './node_timer_driver.ts';

/** Resolves with the clock reading recorded when `key` expired. */
function expiryOf(fired: Map<string, number>, key: string): Promise<number> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      const at = fired.get(key);
      if (at !== undefined) {
        clearInterval(poll);
        resolve(at);
      }
    }, 2);
  });
}

describe('NodeTimerDriver', () => {
  it('expires a key no earlier than its deadline and then disarms its interval', async () => {
    const fired = new Map<string, number>();
    const driver = new NodeTimerDriver<string>({ tickMs: 5, slots: 64, onExpire: (key) => fired.set(key, performance.now()) });
    const deadline = performance.now() + 30;
    driver.scheduleAt('idle-conn', deadline);
    expect(driver.running).toBe(true);
    const at = await expiryOf(fired, 'idle-conn');
    expect(at).toBeGreaterThanOrEqual(deadline);
    expect(driver.size).toBe(0);
    expect(driver.running).toBe(false);
  });

  it('pushes an idle deadline back on activity (touch)', () => {
    let clock = 1_000;
    const expired: string[] = [];
    const driver = new NodeTimerDriver<string>({ tickMs: 5, slots: 64, now: () => clock, onExpire: (key) => expired.push(key) });
    driver.touch('conn', 40); // idle deadline 1 040
    clock = 1_020;
    driver.touch('conn', 40); // activity: the 40 ms window starts again, deadline 1 060
    clock = 1_045;
    driver.tick();
    expect(expired).toEqual([]);
    clock = 1_060;
    driver.tick();
    expect(expired).toEqual(['conn']);
    expect(driver.running).toBe(false);
  });

  it('cancel removes a key and disarms the interval when nothing is left', () => {
    const driver = new NodeTimerDriver<string>({ tickMs: 5, slots: 8, onExpire: () => {} });
    driver.touch('a', 1_000);
    expect(driver.cancel('a')).toBe(true);
    expect(driver.running).toBe(false);
    driver.touch('b', 1_000);
    driver.stop();
    expect(driver.size).toBe(0);
    expect(driver.running).toBe(false);
  });

  it('delivers every expired key even when one callback throws, then rethrows the first error', () => {
    let clock = 0;
    const seen: string[] = [];
    const driver = new NodeTimerDriver<string>({
      tickMs: 10,
      slots: 8,
      now: () => clock,
      onExpire: (key) => {
        seen.push(key);
        if (key === 'a') throw new Error('boom');
      },
    });
    driver.scheduleAt('a', 10);
    driver.scheduleAt('b', 10);
    clock = 10;
    expect(() => driver.tick()).toThrow('boom');
    expect(seen).toEqual(['a', 'b']);
    expect(driver.size).toBe(0);
    expect(driver.running).toBe(false);
  });

  it('never keeps the process alive: a script with a 5 s idle timer exits before it fires', () => {
    const driverUrl = new URL('./node_timer_driver.ts', import.meta.url).href;
    const script = [
      `const { NodeTimerDriver } = await import(${JSON.stringify(driverUrl)});`,
      "const driver = new NodeTimerDriver({ tickMs: 10, slots: 64, onExpire: () => console.log('expired') });",
      "driver.touch('conn', 5000);",
      "console.log('scheduled', driver.running);",
    ].join('\n');
    const run = spawnSync(process.execPath, ['--import', TSX_LOADER, '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('scheduled true\n');
    expect(run.status).toBe(0);
  });
});
