import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCliServer, type CliServer } from '../helpers/cli.js';
import { registerToken } from '../helpers/run-logs.js';

/** `jwtexchange token` against a running `jwtexchange sts`, both as real processes. */
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

describe('jwtexchange token against jwtexchange sts', () => {
  let dir: string;
  let stsUrl: string;
  let metricsAddress: string;
  let sts: CliServer;
  const pki = (f: string) => path.join(dir, 'pki', f);
  const client = (service: string) => [
    '--cert',
    pki(`clients/${service}.pem`),
    '--key',
    pki(`clients/${service}.key`),
  ];
  const base = () => ['--sts', stsUrl, '--ca', pki('ca.pem')];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'jwtx-token-cli-'));
    const init = await runCli([
      'pki',
      'init',
      '--out',
      path.join(dir, 'pki'),
      '--service',
      'gateway',
      '--service',
      'stranger',
    ]);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain('clients/gateway.pem');
    writeFileSync(
      path.join(dir, 'sts.yaml'),
      [
        'listen: 127.0.0.1:0',
        'metricsAddress: 127.0.0.1:0',
        'issuer: https://token-exchange.test',
        'tls: { certFile: pki/server.pem, keyFile: pki/server.key, clientCaFile: pki/ca.pem }',
        'allowlist: [gateway]',
        'services:',
        '  gateway: { audiences: [vmcontroller] }',
        '  stranger: { audiences: [vmcontroller] }',
      ].join('\n'),
    );
    sts = await startCliServer(['sts', '--config', path.join(dir, 'sts.yaml')], {
      ENABLED_TLS_SERVICE_NAME: '',
    });
    stsUrl = sts.addresses.url!;
    metricsAddress = sts.addresses.metrics!;
  });

  afterAll(async () => {
    await sts?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the decoded header and claims of a service token, but not the token', async () => {
    const res = await runCli([
      'token',
      ...base(),
      ...client('gateway'),
      '--audience',
      'vmcontroller',
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('token-exchange issued a token');
    expect(res.stdout).toMatch(
      /signature\s+verified against https:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json/,
    );
    expect(res.stdout).toContain('"typ": "at+jwt"');
    expect(res.stdout).toContain('"alg": "ES256"');
    expect(res.stdout).toContain('"sub": "gateway"');
    expect(res.stdout).toContain('"client_id": "gateway"');
    expect(res.stdout).toContain('"aud": "vmcontroller"');
    expect(res.stdout).not.toMatch(JWT);
    // The server's own metrics are scrapeable on metricsAddress.
    const scrape = await (await fetch(`http://${metricsAddress}/metrics`)).text();
    expect(scrape).toMatch(
      /jwtexchange_sts_requests_total\{grant="client_credentials",result="issued"\} [1-9]/,
    );
  });

  it('prints the token too with --raw', async () => {
    const res = await runCli([
      'token',
      ...base(),
      ...client('gateway'),
      '--audience',
      'vmcontroller',
      '--raw',
    ]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(JWT);
    registerToken('token printed by jwtexchange token --raw', JWT.exec(res.stdout)![0]);
  });

  // Finding 10: subject and actor tokens only as arguments, visible in ps and shell history.
  describe('subject and actor tokens from a file or standard input', () => {
    let subjectToken: string;
    const exchange = (extra: string[], input?: string) =>
      runCli(
        ['token', ...base(), ...client('gateway'), '--audience', 'vmcontroller', ...extra],
        {},
        input,
      );
    // The server verifies the subject token and refuses it (its aud is not the caller), which
    // shows the CLI read and sent the whole token.
    const READ_AND_SENT =
      /invalid_request[\s\S]*subject_token is not acceptable: the token is not meant for this audience/;

    beforeAll(async () => {
      const res = await exchange(['--raw']);
      subjectToken = JWT.exec(res.stdout)![0];
      registerToken('token printed by jwtexchange token --raw', subjectToken);
    });

    it('reads --subject-token-file FILE, final newline and all, without a warning', async () => {
      const file = path.join(dir, 'subject.jwt');
      writeFileSync(file, `${subjectToken}\n`, { mode: 0o600 });
      const res = await exchange(['--subject-token-file', file]);
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(READ_AND_SENT);
      expect(res.stderr).not.toContain('deprecated');
    });

    it('reads --subject-token-file - from standard input', async () => {
      const res = await exchange(['--subject-token-file', '-'], `${subjectToken}\n`);
      expect(res.stderr).toMatch(READ_AND_SENT);
    });

    it('still takes --subject-token, with a warning that it is visible in ps', async () => {
      const res = await exchange(['--subject-token', subjectToken]);
      expect(res.stderr).toMatch(READ_AND_SENT);
      expect(res.stderr).toContain('warning: --subject-token is deprecated');
      expect(res.stderr).toContain('--subject-token-file');
    });
  });

  it('explains a refusal for a service that is not on the allowlist', async () => {
    const res = await runCli([
      'token',
      ...base(),
      ...client('stranger'),
      '--audience',
      'vmcontroller',
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(
      'token-exchange refused the request: unauthorized_client (HTTP 400)',
    );
    expect(res.stderr).toContain('service "stranger" is not on the token-exchange allowlist');
    expect(res.stderr).toContain(
      'your client certificate names: CN=stranger, DNS:stranger, URI:spiffe://jwtexchange.dev/stranger',
    );
    expect(res.stderr).toContain('ENABLED_TLS_SERVICE_NAME');
  });

  it('explains a refused audience', async () => {
    const res = await runCli(['token', ...base(), ...client('gateway'), '--audience', 'billing']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('invalid_target');
    expect(res.stderr).toContain('services.<name>.audiences');
  });

  it('sends --client-id, and a --resource instead of an audience', async () => {
    const ok = [...base(), ...client('gateway'), '--client-id', 'gateway'];
    const refused = await runCli(['token', ...ok, '--resource', 'urn:jwtexchange:billing']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'may not request tokens for resource "urn:jwtexchange:billing"',
    );
    const wrongId = [...base(), ...client('gateway'), '--client-id', 'vmcontroller'];
    const mismatch = await runCli(['token', ...wrongId, '--audience', 'vmcontroller']);
    expect(mismatch.stderr).toContain('invalid_client');
    expect(mismatch.stderr).toContain('client_id does not match the client certificate');
  });

  it('explains a server certificate the --ca does not trust', async () => {
    const other = path.join(dir, 'other');
    expect((await runCli(['pki', 'init', '--out', other])).code).toBe(0);
    const res = await runCli([
      'token',
      '--sts',
      stsUrl,
      '--ca',
      path.join(other, 'ca.pem'),
      ...client('gateway'),
      '--audience',
      'vmcontroller',
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('token-exchange could not be reached');
    expect(res.stderr).toContain('not signed by the CA given with --ca');
  });

  it('never logs a token on the server side', () => {
    expect(sts.output()).toContain('token issued');
    expect(sts.output()).not.toMatch(JWT);
  });
});

describe('jwtexchange sts reads ENABLED_TLS_SERVICE_NAME', () => {
  it('adds the services named there to the allowlist', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-sts-env-'));
    try {
      expect(
        (await runCli(['pki', 'init', '--out', path.join(dir, 'pki'), '--service', 'saga-runner']))
          .code,
      ).toBe(0);
      writeFileSync(
        path.join(dir, 'sts.yaml'),
        `listen: 127.0.0.1:0\nissuer: https://token-exchange.test\n` +
          'tls: { certFile: pki/server.pem, keyFile: pki/server.key, clientCaFile: pki/ca.pem }\n' +
          'services: { saga-runner: { audiences: [vmcontroller] } }\n',
      );
      const sts = await startCliServer(['sts', '--config', path.join(dir, 'sts.yaml')], {
        ENABLED_TLS_SERVICE_NAME: 'gateway, saga-runner',
      });
      try {
        const res = await runCli([
          'token',
          '--sts',
          `${sts.addresses.url}/token`,
          '--ca',
          path.join(dir, 'pki', 'ca.pem'),
          '--cert',
          path.join(dir, 'pki', 'clients', 'saga-runner.pem'),
          '--key',
          path.join(dir, 'pki', 'clients', 'saga-runner.key'),
          '--audience',
          'vmcontroller',
        ]);
        expect(res.code, res.stderr).toBe(0);
        expect(res.stdout).toContain('"iss": "https://token-exchange.test"');
        expect(res.stdout).toContain('"sub": "saga-runner"');
      } finally {
        expect(await sts.stop()).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
