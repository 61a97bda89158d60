import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import {
  loadTokenExchangeConfigFile,
  parseTokenExchangeConfig,
} from '../../../src/token-exchange/config.js';

const minimal = {
  issuer: 'https://token-exchange.local',
  tls: { certFile: 'server.pem', keyFile: 'server.key', clientCaFile: 'ca.pem' },
};

function problems(doc: unknown): { path: string; message: string }[] {
  try {
    parseTokenExchangeConfig(doc, '/etc/sts');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('parseTokenExchangeConfig', () => {
  it('fills the documented defaults and resolves paths against the config directory', () => {
    const c = parseTokenExchangeConfig(minimal, '/etc/sts');
    expect(c.listen).toBe('127.0.0.1:8443');
    expect(c.tls.clientCaFile).toBe('/etc/sts/ca.pem');
    expect(c.clientIdentity).toEqual({ source: 'uri-san', uriPrefix: 'spiffe://jwtexchange.dev/' });
    expect(c.tokens.ttlSeconds).toBe(300);
    expect(c.keys).toEqual({ rotateEverySeconds: 86_400, publishAheadSeconds: 300 });
    expect(c.allowlist).toEqual([]);
    expect(c.limits.maxBodyBytes).toBe(65_536);
  });

  it('reads the sagas section with the saga model names defaulted', () => {
    const c = parseTokenExchangeConfig({
      ...minimal,
      sagas: { spicedb: { endpoint: 'spicedb:50051', presharedKeyEnv: 'SPICEDB_KEY' } },
    });
    expect(c.sagas?.spicedb).toMatchObject({ endpoint: 'spicedb:50051', transport: 'tls' });
    expect(c.sagas?.schema).toEqual({
      type: 'saga',
      initiatorRelation: 'initiator',
      executorRelation: 'executor',
      executePermission: 'execute',
      userType: 'user',
      serviceType: 'service',
    });
    expect(parseTokenExchangeConfig(minimal).sagas).toBeUndefined();
    expect(
      problems({
        ...minimal,
        sagas: { spicedb: { endpoint: 'spicedb:50051' }, schema: { type: 'Saga' } },
      }).map((p) => p.path),
    ).toEqual(['sagas.spicedb', 'sagas.schema.type']);
  });

  it('fills per-service defaults', () => {
    const c = parseTokenExchangeConfig({ ...minimal, services: { gateway: {} } });
    expect(c.services.gateway).toEqual({ audiences: [], delegate: false });
  });

  it('names the offending key', () => {
    expect(problems({ ...minimal, tokens: { ttlSeconds: 5 } })[0]!.path).toBe('tokens.ttlSeconds');
    expect(problems({ ...minimal, bogus: 1 })[0]!.message).toContain('unknown key(s): bogus');
    expect(problems({ ...minimal, tls: { certFile: 'a' } }).map((p) => p.path)).toContain(
      'tls.keyFile',
    );
    expect(problems({ ...minimal, allowlist: ['Gateway'] })[0]!.path).toBe('allowlist[0]');
    expect(problems({ ...minimal, clientIdentity: { source: 'regex' } })[0]!.path).toBe(
      'clientIdentity.source',
    );
  });

  it('refuses service names that are not DNS labels, also as keys of services', () => {
    expect(problems({ ...minimal, services: { 'svc/../x': {} } }).length).toBeGreaterThan(0);
  });

  it('refuses a publish-ahead window as long as the rotation period', () => {
    const p = problems({ ...minimal, keys: { rotateEverySeconds: 600, publishAheadSeconds: 600 } });
    expect(p[0]!.path).toBe('keys.publishAheadSeconds');
  });

  it('refuses a subject issuer without exactly one key source, or equal to its own issuer', () => {
    const both = problems({
      ...minimal,
      subjectIssuers: [{ issuer: 'a', jwksUri: 'https://a/jwks', jwksFile: 'x', audiences: ['t'] }],
    });
    expect(both[0]!.message).toContain('exactly one of jwksUri or jwksFile');
    const own = problems({
      ...minimal,
      subjectIssuers: [{ issuer: minimal.issuer, jwksUri: 'https://a/jwks', audiences: ['t'] }],
    });
    expect(own[0]!.path).toBe('subjectIssuers');
    const plain = problems({
      ...minimal,
      subjectIssuers: [{ issuer: 'a', jwksUri: 'http://auth.example/jwks', audiences: ['t'] }],
    });
    expect(plain[0]!.message).toContain('https');
  });
});

describe('loadTokenExchangeConfigFile', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-sts-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads YAML and resolves relative paths against the file', () => {
    const file = path.join(dir, 'sts.yaml');
    writeFileSync(
      file,
      'issuer: https://x\ntls: { certFile: s.pem, keyFile: s.key, clientCaFile: ca.pem }\n',
    );
    expect(loadTokenExchangeConfigFile(file).tls.certFile).toBe(path.join(dir, 's.pem'));
  });

  it('refuses duplicate keys and unreadable files with a ConfigError', () => {
    const file = path.join(dir, 'dup.yaml');
    writeFileSync(file, 'issuer: https://x\nissuer: https://y\n');
    expect(() => loadTokenExchangeConfigFile(file)).toThrow(/not valid YAML/);
    expect(() => loadTokenExchangeConfigFile(path.join(dir, 'missing.yaml'))).toThrow(ConfigError);
  });
});
