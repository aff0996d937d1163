/**
 * The `server run` command as a real process: flag checks, a startup failure, the
 * JSON listening line and a clean SIGINT.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../lib/errors.ts';
import { TSX_LOADER, errorCodeOf, runCliProcess } from '../../lib/testing.ts';

const MAIN = fileURLToPath(new URL('./node_main.ts', import.meta.url));
const civictrust = (args: readonly string[]) => runCliProcess(args, { entry: MAIN });

describe('civictrust server run', () => {
  it('refuses limits that contradict each other with E_USAGE_VALUE (exit 2) before binding anything', async () => {
    const [tooSmall, inverted, zero] = await Promise.all([
      civictrust(['server', 'run', '--max-outbound-bytes', '1000']), // below one whole 1 MiB reply
      civictrust(['server', 'run', '--low-watermark-bytes', '5000000']), // above the 4 MiB cap
      civictrust(['server', 'run', '--max-clients', '0']),
    ]);
    for (const result of [tooSmall, inverted, zero]) expect([result.code, errorCodeOf(result.stderr), result.stdout]).toEqual([EXIT.usage, 'E_USAGE_VALUE', '']);
    expect(tooSmall.stderr).toContain('it must hold one whole reply of 1048580 bytes');
    expect(inverted.stderr).toContain('it must not exceed --max-outbound-bytes 4194304');
  });

  it('exits 7 with E_NET_ADDR_IN_USE when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const result = await civictrust(['server', 'run', '--port', String((taken.address() as AddressInfo).port)]);
      expect([result.code, errorCodeOf(result.stderr)]).toEqual([EXIT.unavailable, 'E_NET_ADDR_IN_USE']);
    } finally {
      taken.close();
    }
  });

  it('prints its address and pid as JSON with --json, and exits 0 on SIGINT', async () => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, MAIN, 'server', 'run', '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
    const listening = JSON.parse(line) as { listening: string; port: number; pid: number };
    expect(listening).toEqual({ listening: `127.0.0.1:${listening.port}`, host: '127.0.0.1', port: listening.port, pid: child.pid });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/"msg":"server stopped".*"reason":"sigint"/);
  });
});
