import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestApp, type TestApp } from '../helpers/app.js';

const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

describe('jwtexchange config check', () => {
  it('accepts the shipped example (its files exist in the pod only: --skip-files)', async () => {
    const res = await runCli(['config', 'check', '--skip-files', 'examples/config.yaml']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/examples\/config\.yaml: ok/);
    expect(res.stdout).toMatch(/inbound\s+mode enforce, 2 issuer\(s\)/);
  });

  it('names the key path and the problem of each error, and exits 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-cli-'));
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'server: { grpcAdress: 127.0.0.1:9191 }',
        'inbound:',
        '  issuers:',
        '    - issuer: https://token-exchange.local',
        '      jwksUri: http://token-exchange.local/.well-known/jwks.json',
        '      audiences: []',
      ].join('\n'),
    );
    const res = await runCli(['config', 'check', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('server: unknown key(s): grpcAdress');
    expect(res.stderr).toContain(
      'inbound.issuers[0].jwksUri: must use https (plain http is accepted only for loopback hosts)',
    );
    expect(res.stderr).toMatch(/inbound\.issuers\[0\]\.audiences: .*>=1/);
  });

  it('reports a file that is not YAML', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-cli-'));
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(file, 'server: [unclosed');
    const res = await runCli(['config', 'check', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('is not valid YAML');
  });
});

describe('jwtexchange CLI', () => {
  it('prints usage and exits 2 for an unknown command', async () => {
    const res = await runCli(['frobnicate']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('unknown command "frobnicate"');
    expect(res.stderr).toContain('serve');
  });

  it('serve without a configuration explains how to give one', async () => {
    const res = await runCli(['serve'], { JWTEXCHANGE_CONFIG: '' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('JWTEXCHANGE_CONFIG');
  });
});

describe('jwtexchange check against a running server', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.app.shutdown());

  it('prints ALLOW with the identity headers and exits 0, never printing the token', async () => {
    const token = await t.issuer.mint({ sub: 'cloud-teleport-aleksander.rykalin' });
    const res = await runCli([
      'check',
      '--server',
      t.grpcAddress,
      '--authorization',
      `Bearer ${token}`,
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('decision: ALLOW');
    expect(res.stdout).toContain('set     x-jwtauth-subject: cloud-teleport-aleksander.rykalin');
    expect(res.stdout).not.toMatch(JWT);
  });

  it('prints DENY with the reason and exits 1', async () => {
    const res = await runCli(['check', '--server', t.grpcAddress]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('decision: DENY (http 401, grpc code 16)');
    expect(res.stdout).toContain('reason  missing_token');
  });

  it('exits 2 when no server answers', async () => {
    const res = await runCli(['check', '--server', '127.0.0.1:1']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('cannot reach ext_authz server');
  });
});
