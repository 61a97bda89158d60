import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { runCli } from '../helpers/cli.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ROOT } from '../helpers/tools.js';

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
    expect(res.stdout).toContain('reason  allowed (inbound token verified (and authorized))');
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
    expect(res.stderr).toContain(
      'cannot reach ext_authz server at 127.0.0.1:1: connection refused: nothing listens there.',
    );
    // What to do about it, instead of grpc-js's empty "Resolution note:".
    expect(res.stderr).toContain('Is the sidecar running?');
    expect(res.stderr).toContain('npm run demo -- --keep');
    expect(res.stderr).not.toContain('Resolution note');
  });
});

describe('every command answers --help', () => {
  /** main() in this process, output captured. */
  async function inProcess(args: string[]) {
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      return { code: await main(args), stdout: out.join('\n') };
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  }

  it('with exit 0 and its usage, for each command and subcommand', async () => {
    const top = await inProcess(['--help']);
    expect(top.code).toBe(0);
    const names = [...top.stdout.matchAll(/^ {2}(\S+) {2,}/gm)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(['serve', 'config', 'check', 'dev', 'pki']));
    const forms = [
      ...names.map((n) => [n, '--help']),
      ['config', 'check', '--help'],
      ['pki', 'init', '--help'],
      ['dev-auth', 'serve', '--help'],
      ['check', '-h'],
    ];
    for (const args of forms) {
      const res = await inProcess(args);
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stdout, args.join(' ')).toMatch(/^usage: /);
    }
  });

  it.each([['demo/vmctl.ts'], ['demo/run.ts']])(
    '%s --help exits 0 with its usage',
    async (script) => {
      const res = await new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', script, '--help'],
          { cwd: ROOT },
          (e, stdout) =>
            resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout }),
        );
      });
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^usage: /);
    },
  );
});
