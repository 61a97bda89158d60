import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  durationMs,
  filePath,
  isLoopbackHost,
  issuerUrl,
  listenAddress,
  resourceIndicator,
  secureUrl,
} from '../../../src/config/fields.js';

const issues = (
  schema: { safeParse(v: unknown): { success: boolean; error?: unknown } },
  v: unknown,
) => {
  const r = schema.safeParse(v);
  return r.success
    ? []
    : (r.error as { issues: { message: string }[] }).issues.map((i) => i.message);
};

describe('filePath', () => {
  it('resolves a relative path against the config directory, keeps an absolute one', () => {
    const schema = filePath({ baseDir: '/etc/jwtx' });
    expect(schema.parse('keys/a.pem')).toBe(path.resolve('/etc/jwtx', 'keys/a.pem'));
    expect(schema.parse('/run/a.pem')).toBe('/run/a.pem');
    expect(issues(schema, '')).toEqual(['must be a file path']);
  });
});

describe('listenAddress', () => {
  it.each(['127.0.0.1:9191', '[::1]:0', 'unix:/run/x.sock'])('accepts %s', (v) => {
    expect(issues(listenAddress, v)).toEqual([]);
  });
  it.each(['9191', 'localhost', 'http://127.0.0.1:9191'])('refuses %s', (v) => {
    expect(issues(listenAddress, v)).toEqual(['must be host:port, [ipv6]:port or unix:/path']);
  });
});

describe('durationMs', () => {
  it.each([
    [1, true],
    [3_600_000, true],
    [3_600_001, false],
    [0, false],
    [-1, false],
    [1.5, false],
  ])('%d ms is accepted: %s', (v, ok) => {
    expect(durationMs().safeParse(v).success).toBe(ok);
  });
  it('takes its own maximum', () => {
    expect(durationMs(1000).safeParse(1001).success).toBe(false);
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['localhost.example', false],
    ['127.0.0.1.nip.io', false],
    ['::2', false],
    ['example.com', false],
  ])('%s is loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});

describe('secureUrl', () => {
  it.each([
    'https://auth.example/jwks',
    'http://127.0.0.1:8080/jwks',
    'http://localhost/jwks',
    'http://[::1]:80/',
  ])('accepts %s', (v) => {
    expect(issues(secureUrl, v)).toEqual([]);
  });
  it.each([
    ['http://auth.example/jwks', 'must use https (plain http is accepted only for loopback hosts)'],
    ['http://127.0.0.1.nip.io/', 'must use https (plain http is accepted only for loopback hosts)'],
    ['ftp://auth.example/', 'must use https (plain http is accepted only for loopback hosts)'],
    ['auth.example/jwks', 'must be an absolute URL'],
  ])('refuses %s', (v, message) => {
    expect(issues(secureUrl, v)).toEqual([message]);
  });
});

describe('issuerUrl', () => {
  it('accepts an https issuer with a path', () => {
    expect(issues(issuerUrl, 'https://auth.example/realms/a')).toEqual([]);
  });
  it.each([
    'https://auth.example/?',
    'https://auth.example/?a=1',
    'https://auth.example/#x',
    'https://auth.example/#',
  ])('refuses %s', (v) => {
    expect(issues(issuerUrl, v)).toEqual(['an issuer has no query or fragment (RFC 8414)']);
  });
  it('refuses plain http off loopback', () => {
    expect(issues(issuerUrl, 'http://auth.example')).toContain(
      'must use https (plain http is accepted only for loopback hosts)',
    );
  });
});

describe('resourceIndicator', () => {
  it.each(['https://api.example/v1', 'urn:example:vm'])('accepts %s', (v) => {
    expect(issues(resourceIndicator, v)).toEqual([]);
  });
  it.each(['vm', '/relative', 'https://api.example/#x', 'https://api .example/'])(
    'refuses %s',
    (v) => {
      expect(issues(resourceIndicator, v)).toEqual([
        'must be an absolute URI without a fragment (RFC 8707)',
      ]);
    },
  );
});
