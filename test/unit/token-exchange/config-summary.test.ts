import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  stateFileProblem,
  summarizeTokenExchangeConfig,
  tokenExchangeFiles,
} from '../../../src/token-exchange/config-summary.js';
import { parseTokenExchangeConfig } from '../../../src/token-exchange/config.js';

const minimal = {
  issuer: 'https://token-exchange.local',
  tls: { certFile: 'server.pem', keyFile: 'server.key', clientCaFile: 'ca.pem' },
};

const full = parseTokenExchangeConfig(
  {
    ...minimal,
    allowlist: ['gateway'],
    services: { gateway: { audiences: ['vm'], delegate: true } },
    subjectIssuers: [
      {
        issuer: 'https://auth.example',
        jwksFile: 'auth-jwks.json',
        jwksCaFile: 'auth-ca.pem',
        audiences: ['gw'],
      },
    ],
    sagas: {
      spicedb: {
        endpoint: 'spicedb:50051',
        presharedKeyFile: 'spicedb.key',
        caFile: 'spicedb-ca.pem',
      },
    },
  },
  '/etc/sts',
);

describe('tokenExchangeFiles', () => {
  it('lists the TLS files alone for a minimal configuration', () => {
    const files = tokenExchangeFiles(parseTokenExchangeConfig(minimal, '/etc/sts'));
    expect(files.map((f) => [f.setting, f.file, f.kind])).toEqual([
      ['tls.certFile', '/etc/sts/server.pem', 'certificate'],
      ['tls.keyFile', '/etc/sts/server.key', 'private-key'],
      ['tls.clientCaFile', '/etc/sts/ca.pem', 'ca-bundle'],
    ]);
    expect(files[1]!.pairedWith).toBe('tls.certFile');
  });

  it('adds the files of subject issuers and of the saga SpiceDB, by their setting', () => {
    expect(
      tokenExchangeFiles(full)
        .slice(3)
        .map((f) => [f.setting, f.file, f.kind]),
    ).toEqual([
      ['subjectIssuers[0].jwksFile', '/etc/sts/auth-jwks.json', 'jwks'],
      ['subjectIssuers[0].jwksCaFile', '/etc/sts/auth-ca.pem', 'ca-bundle'],
      ['sagas.spicedb.caFile', '/etc/sts/spicedb-ca.pem', 'ca-bundle'],
      ['sagas.spicedb.presharedKeyFile', '/etc/sts/spicedb.key', 'secret'],
    ]);
  });
});

describe('stateFileProblem', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-state-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const withState = (file?: string) =>
    parseTokenExchangeConfig({ ...minimal, keys: file ? { stateFile: file } : {} }, dir);

  it('has nothing to say without a state file, or before it exists', () => {
    expect(stateFileProblem(withState(), (f) => f)).toEqual([]);
    expect(stateFileProblem(withState('missing.json'), (f) => f)).toEqual([]);
  });

  it('reports a state file that is not a key state', () => {
    writeFileSync(path.join(dir, 'bad.json'), '{"not":"keys"}');
    const problems = stateFileProblem(withState('bad.json'), (f) => f);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.length).toBeGreaterThan(0);
  });
});

describe('summarizeTokenExchangeConfig', () => {
  it('says what a full configuration does, with the allowlist from the environment', () => {
    const lines = summarizeTokenExchangeConfig(full, { ENABLED_TLS_SERVICE_NAME: 'billing, ,vm' });
    expect(lines).toContain(
      '  issuer           https://token-exchange.local; tokens ttlSeconds=300  maxSubjectTokenBytes=8192  clockToleranceSeconds=30',
    );
    expect(lines).toContain(
      '  allowlist        gateway + ENABLED_TLS_SERVICE_NAME here: billing, vm',
    );
    expect(lines).toContain('    service gateway  audiences=[vm]  delegate=true');
    expect(lines).toContain('  subject issuers  1');
    expect(lines).toContain(
      '    https://auth.example  keys from /etc/sts/auth-jwks.json; audiences gw',
    );
    expect(lines.at(-1)).toMatch(
      /^ {2}saga delegation {2}SpiceDB spicedb:50051 \(tls\); type=saga /,
    );
  });

  it('says when keys are not kept, the allowlist is empty and sagas are off', () => {
    const lines = summarizeTokenExchangeConfig(parseTokenExchangeConfig(minimal, '/etc/sts'), {});
    expect(lines).toContain('  allowlist        (empty)');
    expect(lines.find((l) => l.startsWith('  signing keys'))).toMatch(
      /in memory \(lost on restart\)/,
    );
    expect(lines.at(-1)).toBe('  saga delegation  off (no sagas section: saga ids are refused)');
  });
});
