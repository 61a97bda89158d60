import { describe, expect, it } from 'vitest';
import { logSection, serverSection } from '../../../../src/config/sections/server.js';

describe('serverSection', () => {
  it('fills the documented defaults', () => {
    expect(serverSection().parse(undefined)).toEqual({
      grpcAddress: '127.0.0.1:9191',
      httpCheckTimeoutMs: 1_000,
      httpAddress: '127.0.0.1:9464',
      shutdownGraceMs: 10_000,
      drainDelayMs: 0,
      workers: 'auto',
    });
  });

  it.each([
    [{ grpcAddress: 'unix:/run/x.sock', httpAddress: '[::1]:0' }],
    [{ shutdownGraceMs: 300_000, drainDelayMs: 60_000 }],
    [{ httpCheckAddress: '127.0.0.1:9192', httpCheckTimeoutMs: 2_000 }],
    [{ workers: 1 }],
    [{ workers: 64 }],
  ])('accepts %o', (section) => {
    expect(serverSection().safeParse(section).success).toBe(true);
  });

  it.each([
    [{ grpcAddress: '9191' }],
    [{ shutdownGraceMs: 0 }],
    [{ shutdownGraceMs: 300_001 }],
    [{ drainDelayMs: -1 }],
    [{ drainDelayMs: 60_001 }],
    [{ httpCheckAddress: '9192' }],
    [{ httpCheckTimeoutMs: 0 }],
    [{ httpCheckTimeoutMs: 60_001 }],
    [{ workers: 0 }],
    [{ workers: 65 }],
    [{ workers: 'all' }],
    [{ grpcAdress: '127.0.0.1:1' }],
  ])('refuses %o', (section) => {
    expect(serverSection().safeParse(section).success).toBe(false);
  });
});

describe('logSection', () => {
  it('defaults to info and takes only the four levels', () => {
    expect(logSection().parse(undefined)).toEqual({ level: 'info' });
    for (const level of ['debug', 'info', 'warn', 'error']) {
      expect(logSection().parse({ level })).toEqual({ level });
    }
    expect(logSection().safeParse({ level: 'trace' }).success).toBe(false);
    expect(logSection().safeParse({ level: 'info', format: 'text' }).success).toBe(false);
  });
});
