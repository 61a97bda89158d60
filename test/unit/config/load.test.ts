import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../../src/config/fields.js';
import { formatPath, loadConfigFile, parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';

const ISSUER = {
  issuer: 'https://token-exchange.local',
  jwksUri: 'https://127.0.0.1:8443/.well-known/jwks.json',
  audiences: ['gateway'],
  algorithms: ['ES256'],
};

const withIssuers = (...issuers: Record<string, unknown>[]) => ({ inbound: { issuers } });

function problems(doc: unknown, baseDir = '/'): { path: string; message: string }[] {
  try {
    parseConfig(doc, baseDir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  return [];
}

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'jwtx-config-'));
}

describe('parseConfig', () => {
  it('accepts the documented example and fills in defaults', () => {
    const config = parseConfig({
      server: { grpcAddress: '127.0.0.1:9191', httpAddress: '127.0.0.1:9464' },
      inbound: { mode: 'enforce', issuers: [ISSUER] },
    });
    expect(config.inbound).toMatchObject({
      mode: 'enforce',
      maxTokenBytes: 8192,
      clockToleranceSeconds: 30,
    });
    expect(config.inbound.issuers[0]).toMatchObject({ ...ISSUER, requiredClaims: [] });
    expect(config.inbound.issuers[0]!.jwks).toMatchObject({ cooldownMs: 30_000 });
  });

  it('fills outbound.delegation defaults and validates them', () => {
    const outbound = {
      tokenExchange: { tokenUrl: 'https://sts:8443/token', certFile: 'c.pem', keyFile: 'k.pem' },
    };
    expect(parseConfig({ outbound }, '/').outbound!.delegation).toEqual({
      sagaIdHeader: 'x-saga-id',
      maxEntries: 10_000,
      idleMs: 600_000,
      refusalTtlMs: 5_000,
    });
    const bad = { ...outbound, delegation: { sagaIdHeader: 'X-Saga-Id', maxEntries: 0 } };
    expect(problems({ outbound: bad }).map((p) => p.path)).toEqual([
      'outbound.delegation.sagaIdHeader',
      'outbound.delegation.maxEntries',
    ]);
  });

  it('accepts an empty document', () => {
    expect(parseConfig(undefined).inbound.issuers).toEqual([]);
  });

  it.each([
    ['https anywhere', 'https://idp.example.com/jwks.json'],
    ['http on 127.0.0.1', 'http://127.0.0.1:8080/jwks.json'],
    ['http on another 127/8 address', 'http://127.10.0.3/jwks.json'],
    ['http on localhost', 'http://localhost:8080/jwks.json'],
    ['http on [::1]', 'http://[::1]:8080/jwks.json'],
  ])('accepts a JWKS URL with %s', (_name, jwksUri) => {
    expect(problems(withIssuers({ ...ISSUER, jwksUri }))).toEqual([]);
  });

  it.each([
    ['http on a public host', 'http://idp.example.com/jwks.json', /https/],
    ['http on a private address', 'http://10.0.0.1/jwks.json', /https/],
    ['http on 0.0.0.0', 'http://0.0.0.0/jwks.json', /https/],
    ['http on a name that starts with localhost', 'http://localhost.evil.com/j', /https/],
    ['http on a name that starts with 127.0.0.1', 'http://127.0.0.1.nip.io/j', /https/],
    ['http on an IPv4-mapped IPv6 address', 'http://[::ffff:127.0.0.1]/j', /https/],
    ['another scheme', 'ftp://127.0.0.1/jwks.json', /https/],
    ['a relative URL', '/jwks.json', /absolute URL/],
  ])('refuses a JWKS URL with %s, naming the key', (_name, jwksUri, message) => {
    const found = problems(withIssuers({ ...ISSUER, jwksUri }));
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe('inbound.issuers[0].jwksUri');
    expect(found[0]!.message).toMatch(message);
  });

  it.each([
    ['both jwksUri and jwksFile', { ...ISSUER, jwksFile: './jwks.json' }],
    ['neither jwksUri nor jwksFile', { ...ISSUER, jwksUri: undefined }],
  ])('requires exactly one key source: %s', (_name, issuer) => {
    expect(problems(withIssuers(issuer))).toEqual([
      { path: 'inbound.issuers[0]', message: 'set exactly one of jwksUri or jwksFile' },
    ]);
  });

  it('rejects unknown keys at every level, naming where they are', () => {
    expect(problems({ inbund: {} })).toEqual([{ path: '', message: 'unknown key(s): inbund' }]);
    expect(problems({ inbound: { issuer: [] } })).toEqual([
      { path: 'inbound', message: 'unknown key(s): issuer' },
    ]);
    expect(problems(withIssuers({ ...ISSUER, jwks_uri: 'x' }))).toEqual([
      { path: 'inbound.issuers[0]', message: 'unknown key(s): jwks_uri' },
    ]);
    expect(problems(withIssuers({ ...ISSUER, jwks: { refreshMs: 1 } }))).toEqual([
      { path: 'inbound.issuers[0].jwks', message: 'unknown key(s): refreshMs' },
    ]);
  });

  it('rejects a duplicate issuer at the second occurrence', () => {
    const found = problems(withIssuers(ISSUER, { ...ISSUER, audiences: ['other'] }));
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe('inbound.issuers[1].issuer');
    expect(found[0]!.message).toContain('duplicate issuer');
  });

  it.each([
    ['HS256', { algorithms: ['HS256'] }, 'inbound.issuers[0].algorithms[0]'],
    ['alg none', { algorithms: ['none'] }, 'inbound.issuers[0].algorithms[0]'],
    ['no algorithms', { algorithms: [] }, 'inbound.issuers[0].algorithms'],
    ['no audiences', { audiences: [] }, 'inbound.issuers[0].audiences'],
    ['an empty issuer', { issuer: '' }, 'inbound.issuers[0].issuer'],
  ])('rejects %s, naming the key', (_name, change, keyPath) => {
    expect(problems(withIssuers({ ...ISSUER, ...change })).map((p) => p.path)).toEqual([keyPath]);
  });

  it.each([
    ['mode', { mode: 'audit' }],
    ['maxTokenBytes', { maxTokenBytes: 100 }],
    ['maxTokenBytes', { maxTokenBytes: 1_000_000 }],
    ['clockToleranceSeconds', { clockToleranceSeconds: -1 }],
    ['clockToleranceSeconds', { clockToleranceSeconds: 3600 }],
    ['verifiedCacheSize', { verifiedCacheSize: 1.5 }],
  ])('rejects a bad inbound.%s', (key, inbound) => {
    expect(problems({ inbound }).map((p) => p.path)).toEqual([`inbound.${key}`]);
  });

  it('reports every problem at once', () => {
    const found = problems({
      server: { grpcAddress: 'nope' },
      inbound: { mode: 'x', issuers: [{ ...ISSUER, jwksUri: 'http://evil.example/j' }] },
    });
    expect(found.map((p) => p.path).sort()).toEqual([
      'inbound.issuers[0].jwksUri',
      'inbound.mode',
      'server.grpcAddress',
    ]);
  });

  it('resolves relative file paths against the base directory', () => {
    const config = parseConfig(
      withIssuers({
        ...ISSUER,
        jwksUri: undefined,
        jwksFile: 'keys/jwks.json',
        jwksCaFile: '../ca.pem',
      }),
      '/etc/jwtexchange/conf',
    );
    expect(config.inbound.issuers[0]).toMatchObject({
      jwksFile: '/etc/jwtexchange/conf/keys/jwks.json',
      jwksCaFile: '/etc/jwtexchange/ca.pem',
    });
  });
});

describe('loadConfigFile', () => {
  it('resolves relative paths against the config file directory, not the cwd', () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'conf'));
    const file = path.join(dir, 'conf', 'jwtexchange.yaml');
    writeFileSync(
      file,
      [
        'inbound:',
        '  issuers:',
        '    - issuer: https://token-exchange.local',
        '      jwksFile: ./jwks.json',
        '      audiences: [gateway]',
      ].join('\n'),
    );
    expect(loadConfigFile(file).inbound.issuers[0]!.jwksFile).toBe(
      path.join(dir, 'conf', 'jwks.json'),
    );
  });

  it('names the file when it cannot be read', () => {
    const file = path.join(tempDir(), 'missing.yaml');
    expect(() => loadConfigFile(file)).toThrow(ConfigError);
    expect(() => loadConfigFile(file)).toThrow(`cannot read ${file}`);
  });

  it.each([
    ['a YAML syntax error', 'inbound: [\n'],
    ['a duplicate key', 'inbound:\n  mode: enforce\n  mode: dry-run\n'],
  ])('refuses %s as invalid YAML', (_name, text) => {
    const file = path.join(tempDir(), 'c.yaml');
    writeFileSync(file, text);
    expect(() => loadConfigFile(file)).toThrow(/is not valid YAML/);
  });

  it('puts every problem, with its key path, into the error message', () => {
    const file = path.join(tempDir(), 'c.yaml');
    writeFileSync(file, 'inbound:\n  mode: audit\n  issuers:\n    - issuer: x\n');
    const message = (() => {
      try {
        loadConfigFile(file);
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(message).toMatch(/^invalid configuration:\n/);
    expect(message).toContain('  - inbound.mode: ');
    expect(message).toContain('  - inbound.issuers[0].audiences: ');
  });
});

describe('formatPath and isLoopbackHost', () => {
  it('formats zod paths as dotted keys with [index]', () => {
    expect(formatPath(['inbound', 'issuers', 0, 'jwksUri'])).toBe('inbound.issuers[0].jwksUri');
    expect(formatPath([])).toBe('');
  });

  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['localhost', true],
    ['[::1]', true],
    ['::1', true],
    ['128.0.0.1', false],
    ['localhost.example', false],
    ['::', false],
    ['example.com', false],
  ])('%s is loopback: %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
