import { describe, expect, it } from 'vitest';
import { DEFAULT_SPIFFE_PREFIX, isServiceName } from '../../../src/pki/service-name.js';

describe('isServiceName', () => {
  it.each(['gateway', 'vm-controller', 'a', '0', 'a1', 'x'.repeat(63)])('accepts %s', (name) => {
    expect(isServiceName(name)).toBe(true);
  });

  it.each([
    '',
    'Gateway',
    '-gateway',
    'gateway-',
    'gate_way',
    'gate.way',
    'gate/way',
    '../etc',
    'gate way',
    'x'.repeat(64),
    'gateway\n',
  ])('refuses %o', (name) => {
    expect(isServiceName(name)).toBe(false);
  });

  it('prefixes SPIFFE ids so the name is the last segment', () => {
    expect(DEFAULT_SPIFFE_PREFIX).toMatch(/^spiffe:\/\/[a-z0-9.-]+\/$/);
  });
});
