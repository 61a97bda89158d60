import { describe, expect, it } from 'vitest';
import { resolveAllowlist } from '../../../src/token-exchange/allowlist.js';

describe('resolveAllowlist', () => {
  it('merges the config list with ENABLED_TLS_SERVICE_NAME (comma-separated, spaces trimmed)', () => {
    const list = resolveAllowlist(['gateway'], {
      ENABLED_TLS_SERVICE_NAME: ' vmcontroller ,saga-runner,,',
    });
    expect(list.names).toEqual(['gateway', 'saga-runner', 'vmcontroller']);
  });

  it('matches names exactly: no case folding, no prefixes, no patterns', () => {
    const list = resolveAllowlist(['gateway'], {});
    expect(list.has('gateway')).toBe(true);
    for (const other of ['Gateway', 'gateway2', 'gate', 'gateway ', '.*'])
      expect(list.has(other)).toBe(false);
  });

  it('refuses an env entry that is not a service name instead of ignoring it', () => {
    expect(() =>
      resolveAllowlist([], { ENABLED_TLS_SERVICE_NAME: 'gateway,spiffe://x/y' }),
    ).toThrow(/ENABLED_TLS_SERVICE_NAME contains invalid service name/);
  });

  it('is empty without config and env', () => {
    expect(resolveAllowlist([], {}).names).toEqual([]);
  });
});
