import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { ensureDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import { createDevPki, type DevPki } from '../../src/pki/dev-pki.js';
import { main } from '../../src/cli/main.js';
import { runCli } from '../helpers/cli.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** main() in this process with its output captured: the checks below need no process each. */
async function runMain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

/**
 * `jwtexchange config check` reads what `serve` (and `sts`) will read: every key, then every file
 * the configuration names, with errors that name the setting. Real files from a dev PKI and a dev
 * issuer; the CLI as a process.
 */
let dir: string;
let pki: DevPki;
let issuer: DevIssuer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'jwtx-config-check-'));
  pki = await createDevPki({ outDir: path.join(dir, 'pki'), services: ['gateway', 'other'] });
  issuer = await ensureDevIssuer(path.join(dir, 'issuer'));
  writeFileSync(path.join(dir, 'spicedb.key'), 'preshared-key-value\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withoutEnv<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env[name];
  delete process.env[name];
  try {
    return await fn();
  } finally {
    if (saved !== undefined) process.env[name] = saved;
  }
}

/** A sidecar config using real files; `edit` changes the document before it is written. */
function sidecar(name: string, edit: (doc: Doc) => void = () => {}): string {
  const gw = pki.clients.gateway!;
  const doc: Doc = {
    inbound: {
      issuers: [{ issuer: issuer.issuer, jwksFile: issuer.jwksFile, audiences: ['gateway'] }],
    },
    outbound: {
      tokenExchange: {
        tokenUrl: 'https://token-exchange.platform.svc:8443/token',
        certFile: gw.certFile,
        keyFile: gw.keyFile,
        caFile: pki.caFile,
      },
      audiences: [{ audience: 'vmcontroller' }, { audience: 'billing', scopes: ['read'] }],
    },
    spicedb: {
      endpoint: 'spicedb.authz.svc:50051',
      caFile: pki.caFile,
      presharedKeyFile: path.join(dir, 'spicedb.key'),
    },
    authorization: {
      rules: [
        {
          name: 'create-namespace',
          match: { http: 'POST /v2/clusters/{cluster}/namespaces' },
          resource: { type: 'cloud', id: { param: 'cluster' } },
          permission: 'create_saga',
        },
      ],
    },
  };
  edit(doc);
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

describe('config check of a sidecar configuration', () => {
  it('names discovery, client_id and resources when the token endpoint comes from an issuer', async () => {
    const file = sidecar('discovery', (doc) => {
      const out = doc.outbound as { tokenExchange: Doc; audiences: Doc[] };
      delete out.tokenExchange.tokenUrl;
      out.tokenExchange.issuer = 'https://keycloak.example/realms/platform';
      out.tokenExchange.clientId = 'gateway';
      out.audiences[0]!.resource = 'urn:jwtexchange:vmcontroller';
    });
    const res = await runMain(['config', 'check', file]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(
      'token endpoint from the metadata of https://keycloak.example/realms/platform (mTLS)',
    );
    expect(res.stdout).toMatch(/tokenExchange\s+discoveryRefreshMs=3600000\s+clientId=gateway/);
    expect(res.stdout).toMatch(/audience vmcontroller\s+resource=urn:jwtexchange:vmcontroller/);
  });

  it('reads every file, and summarises each section, never printing a secret', async () => {
    const res = await runMain(['config', 'check', sidecar('good')]);
    expect(res.code, res.stderr).toBe(0);
    const out = res.stdout;
    expect(out).toMatch(/good\.yaml: ok \(sidecar configuration for `jwtexchange serve`\)/);
    expect(out).toMatch(/inbound\s+mode enforce, 1 issuer\(s\)/);
    expect(out).toContain(`keys from jwksFile ${issuer.jwksFile}; audiences gateway`);
    expect(out).toContain(
      'outbound       token endpoint https://token-exchange.platform.svc:8443/token (mTLS), 2 audience(s)',
    );
    expect(out).toMatch(/audience billing\s+scopes=\[read\]\s+prefetch=true/);
    expect(out).toMatch(/spicedb\s+spicedb\.authz\.svc:50051 \(tls\)/);
    expect(out).toContain(
      'create-namespace: POST /v2/clusters/{cluster}/namespaces → cloud:{param cluster}#create_saga',
    );
    expect(out).toMatch(
      /outbound\.tokenExchange\.certFile .*CN=gateway, .*URI:spiffe:\/\/jwtexchange\.dev\/gateway; expires/,
    );
    expect(out).toMatch(/inbound\.issuers\[0\]\.jwksFile .*1 key\(s\)/);
    expect(out).toMatch(/spicedb\.presharedKeyFile .*present \(not shown\)/);
    expect(out).not.toContain('preshared-key-value');
    expect(out).not.toContain('PRIVATE KEY');
  });

  it.each([
    [
      'a CA file that does not exist',
      (d: Doc) => (d.outbound.tokenExchange.caFile = path.join(dir, 'ca-typo.pem')),
      /outbound\.tokenExchange\.caFile: cannot read .*ca-typo\.pem: no such file/,
    ],
    [
      'a key that is not the certificate’s',
      (d: Doc) => (d.outbound.tokenExchange.keyFile = pki.clients.other!.keyFile),
      /outbound\.tokenExchange\.keyFile: .* is not the private key of outbound\.tokenExchange\.certFile/,
    ],
    [
      'a CA bundle that is a key',
      (d: Doc) => (d.spicedb.caFile = pki.clients.gateway!.keyFile),
      /spicedb\.caFile: .* is not a usable ca bundle: no PEM certificate in it/,
    ],
    [
      'a JWKS file with private keys',
      (d: Doc) => {
        const file = path.join(dir, 'private-jwks.json');
        writeFileSync(
          file,
          JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }] }),
        );
        d.inbound.issuers[0].jwksFile = file;
      },
      /inbound\.issuers\[0\]\.jwksFile: .* holds private key material/,
    ],
    [
      'an empty preshared key file',
      (d: Doc) => {
        writeFileSync(path.join(dir, 'empty.key'), '\n');
        d.spicedb.presharedKeyFile = path.join(dir, 'empty.key');
      },
      /spicedb\.presharedKeyFile: .* is not a usable secret: it is empty/,
    ],
  ])('refuses %s, naming the setting, and exits 1', async (_what, edit, message) => {
    const res = await runMain(['config', 'check', sidecar(`bad-${Math.random()}`, edit)]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(message);
    expect(res.stdout).toBe('');
  });

  it('--skip-files checks keys only and lists the files serve will need', async () => {
    const res = await runMain(['config', 'check', 'examples/config.yaml']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      'outbound.tokenExchange.certFile: cannot read /etc/jwtexchange/tls/tls.crt: no such file',
    );
    const skipped = await runMain(['config', 'check', '--skip-files', 'examples/config.yaml']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toContain('files (not read: --skip-files)');
    expect(skipped.stdout).toMatch(
      /outbound\.tokenExchange\.caFile\s+\/etc\/jwtexchange\/tls\/ca\.crt\s+\(ca-bundle\)/,
    );
  });

  it('--root reads the files under a directory laid out as the pod mounts them', async () => {
    const root = path.join(dir, 'root');
    mkdirSync(path.join(root, 'etc/jwtexchange/tls'), { recursive: true });
    copyFileSync(pki.clients.gateway!.certFile, path.join(root, 'etc/jwtexchange/tls/tls.crt'));
    copyFileSync(pki.clients.gateway!.keyFile, path.join(root, 'etc/jwtexchange/tls/tls.key'));
    copyFileSync(pki.caFile, path.join(root, 'etc/jwtexchange/tls/ca.crt'));
    const file = sidecar('rooted', (d) => {
      d.outbound.tokenExchange = {
        tokenUrl: 'https://token-exchange.platform.svc:8443/token',
        certFile: '/etc/jwtexchange/tls/tls.crt',
        keyFile: '/etc/jwtexchange/tls/tls.key',
        caFile: '/etc/jwtexchange/tls/ca.crt',
      };
      delete d.inbound;
      delete d.spicedb;
      delete d.authorization;
    });
    const res = await runMain(['config', 'check', '--root', root, file]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(
      /outbound\.tokenExchange\.keyFile\s+\/etc\/jwtexchange\/tls\/tls\.key\s+ec key/,
    );
  });

  it('notes a preshared key variable this environment does not set', async () => {
    const file = sidecar('env', (d) => {
      delete d.spicedb.presharedKeyFile;
      d.spicedb.presharedKeyEnv = 'JWTX_TEST_UNSET_KEY';
    });
    const res = await withoutEnv('JWTX_TEST_UNSET_KEY', () => runMain(['config', 'check', file]));
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(
      'note: $JWTX_TEST_UNSET_KEY (spicedb.presharedKeyEnv) is not set here',
    );
  });
});

describe('config check of a token-exchange configuration', () => {
  function stsConfig(name: string, extra: Record<string, unknown> = {}): string {
    const file = path.join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      stringify({
        listen: '127.0.0.1:8443',
        issuer: 'https://token-exchange.platform.svc:8443',
        tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, clientCaFile: pki.caFile },
        allowlist: ['gateway'],
        services: { gateway: { audiences: ['vmcontroller'], delegate: true } },
        ...extra,
      }),
    );
    return file;
  }

  it('is recognised by its keys, reads its files and summarises it', async () => {
    const res = await runMain(['config', 'check', stsConfig('sts')]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(
      /sts\.yaml: ok \(token-exchange configuration for `jwtexchange sts`, recognised by its keys\)/,
    );
    expect(res.stdout).toMatch(/allowlist\s+gateway/);
    expect(res.stdout).toMatch(/service gateway\s+audiences=\[vmcontroller\]\s+delegate=true/);
    expect(res.stdout).toMatch(/tls\.certFile .*CN=token-exchange/);
    expect(res.stdout).toMatch(/signing keys\s+in memory/);
    expect(res.stdout).toMatch(/saga delegation\s+off/);
  });

  it('reads the saga SpiceDB key file and summarises saga delegation', async () => {
    const key = path.join(dir, 'spicedb-saga.key');
    writeFileSync(key, 'not-shown-key\n');
    const sagas = (presharedKeyFile: string) => ({
      sagas: { spicedb: { endpoint: 'spicedb.authz.svc:50051', presharedKeyFile } },
    });
    const ok = await runMain(['config', 'check', stsConfig('sts-sagas', sagas(key))]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/saga delegation\s+SpiceDB spicedb\.authz\.svc:50051 \(tls\)/);
    expect(ok.stdout).toMatch(/sagas\.spicedb\.presharedKeyFile .*present \(not shown\)/);
    expect(ok.stdout).not.toContain('not-shown-key');
    const missing = await runMain(['config', 'check', stsConfig('sts-nokey', sagas('/nope/k'))]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('sagas.spicedb.presharedKeyFile: cannot read /nope/k');
  });

  it('names a broken key state file and a missing TLS file', async () => {
    const state = path.join(dir, 'state.json');
    writeFileSync(state, '{"version": 2}');
    const res = await runMain([
      'config',
      'check',
      '--sts',
      stsConfig('sts-bad', {
        keys: { stateFile: state },
        tls: {
          certFile: pki.serverCertFile,
          keyFile: pki.serverKeyFile,
          clientCaFile: '/nope/ca.pem',
        },
      }),
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('tls.clientCaFile: cannot read /nope/ca.pem: no such file');
    expect(res.stderr).toContain('keys.stateFile: keys.stateFile');
  });

  it('points at --sts when a file mixes the two kinds of keys', async () => {
    const file = path.join(dir, 'mixed.yaml');
    writeFileSync(file, stringify({ inbound: {}, listen: '127.0.0.1:8443', issuer: 'https://x' }));
    const res = await runMain(['config', 'check', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('(root): unknown key(s): listen, issuer');
    expect(res.stderr).toContain('hint: listen, issuer are token-exchange keys');
  });
});

describe('config check input', () => {
  it('reads standard input, and the config.yaml of a ConfigMap among other objects', async () => {
    const config = stringify({
      inbound: {
        issuers: [{ issuer: issuer.issuer, jwksFile: issuer.jwksFile, audiences: ['gateway'] }],
      },
    });
    const objects = [
      stringify({ kind: 'ConfigMap', metadata: { name: 'gw-envoy' }, data: { 'envoy.yaml': 'x' } }),
      stringify({
        kind: 'ConfigMap',
        metadata: { name: 'gw-config' },
        data: { 'config.yaml': config },
      }),
      stringify({ kind: 'Service', metadata: { name: 'gw' } }),
    ].join('---\n');
    const res = await runCli(['config', 'check', '-'], {}, objects);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('(stdin) (ConfigMap gw-config, config.yaml): ok');
    expect(res.stdout).toMatch(/inbound\.issuers\[0\]\.jwksFile .*1 key\(s\)/);
  });

  it('answers --help with exit 0, and a usage error with exit 2', async () => {
    const help = await runCli(['config', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: jwtexchange config check');
    const usage = await runCli(['config', 'validate', 'x.yaml']);
    expect(usage.code).toBe(2);
    const flag = await runCli(['config', 'check', '--frobnicate', 'x.yaml']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('jwtexchange config --help');
  });
});
