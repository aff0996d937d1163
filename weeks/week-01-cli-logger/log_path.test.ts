/** The naming rules of a log path, checked without a disk. */
import { describe, expect, it } from 'vitest';
import { resolveLogPath } from './log_path.ts';
import { thrownCode } from './thrown_code.ts';

describe('resolveLogPath', () => {
  it('resolves a relative path against the working directory and folds ., .. and repeated slashes', () => {
    expect(resolveLogPath('events.log', '/srv/civic').absolute).toBe('/srv/civic/events.log');
    expect(resolveLogPath('./logs//a/../events.log', '/srv/civic').absolute).toBe('/srv/civic/logs/events.log');
    expect(resolveLogPath('../../../../x.log', '/srv/civic').absolute).toBe('/x.log');
    expect(resolveLogPath('/var/log//civic/./events.log', '/ignored').absolute).toBe('/var/log/civic/events.log');
  });

  it('names the quarantine after the resolved log, and labels the log as given plus resolved when they differ', () => {
    expect(resolveLogPath('events.log', '/srv')).toEqual({
      given: 'events.log', absolute: '/srv/events.log', quarantine: '/srv/events.log.torn', label: 'events.log (/srv/events.log)',
    });
    expect(resolveLogPath('/srv/events.log', '/elsewhere').label).toBe('/srv/events.log');
  });

  it('refuses a path spelled as a directory before any I/O', () => {
    for (const path of ['/', 'logs/', '.', '..', 'logs/.', 'logs/..', '/var/log/']) {
      expect(thrownCode(() => resolveLogPath(path, '/srv')), path).toBe('E_PATH_IS_DIR');
    }
  });

  it('refuses an empty path, a NUL byte and a name reserved for a quarantine', () => {
    for (const path of ['', 'a\0b.log', 'events.log.torn', '/srv/x.torn']) {
      expect(thrownCode(() => resolveLogPath(path, '/srv')), JSON.stringify(path)).toBe('E_PATH_INVALID');
    }
    expect(resolveLogPath('torn.log', '/srv').absolute).toBe('/srv/torn.log');
  });
});
