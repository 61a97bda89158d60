import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevIssuer } from '../../src/dev/dev-issuer.js';
import { cli, runCli, startCliServer } from '../helpers/cli.js';
import { reservePort } from '../helpers/ports.js';
import { finished } from '../helpers/processes.js';
import { ROOT } from '../helpers/tools.js';

/**
 * A start that fails must stop what it started and exit non-zero by itself, with a message that
 * says what to do. Each case runs the real CLI in a process group of its own and waits for it to
 * exit (a hang fails after a generous deadline); nothing of the group may be left running.
 */
let dir: string;
let taken: net.Server;
/** A port some other process is listening on for the whole file. */
let takenPort: number;
let jwksFile: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'jwtx-start-failures-'));
  taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  takenPort = (taken.address() as net.AddressInfo).port;
  jwksFile = (await ensureDevIssuer(path.join(dir, 'issuer'))).jwksFile;
  const init = await runCli(['pki', 'init', '--out', path.join(dir, 'pki')]);
  expect(init.code, init.stderr).toBe(0);
});

afterAll(() => {
  taken?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function file(name: string, lines: string[]): string {
  const f = path.join(dir, name);
  writeFileSync(f, lines.join('\n'));
  return f;
}

function serveConfig(
  name: string,
  grpc: string,
  http: string,
  { jwks = jwksFile, workers = 1, httpCheck = '' } = {},
): string {
  const check = httpCheck ? `, httpCheckAddress: '${httpCheck}'` : '';
  return file(name, [
    `server: { grpcAddress: '${grpc}', httpAddress: '${http}', workers: ${workers}${check} }`,
    'inbound:',
    `  issuers: [{ issuer: https://issuer.test, audiences: [gateway], jwksFile: '${jwks}' }]`,
  ]);
}

function stsConfig(name: string, listen: string, extra: string[] = []): string {
  return file(name, [
    `listen: '${listen}'`,
    'issuer: https://token-exchange.test',
    'tls: { certFile: pki/server.pem, keyFile: pki/server.key, clientCaFile: pki/ca.pem }',
    ...extra,
  ]);
}

/** Runs the CLI to its exit; asserts non-zero, nothing left behind, and returns stderr. */
async function failsCleanly(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const res = await finished(cli(args, { JWTEXCHANGE_CONFIG: '', ...env }, { detached: true }));
  expect(res.code, res.stdout + res.stderr).not.toBe(0);
  expect(res.leftBehind).toEqual([]);
  return res.stderr;
}

const inUse = (address: string, setting: string) =>
  `cannot listen on ${address} (${setting}): the address is already in use: stop the process listening there, or set ${setting} to a free port`;

describe('jwtexchange serve fails fast and says what to change', { timeout: 120_000 }, () => {
  it('gRPC port taken', async () => {
    const address = `127.0.0.1:${takenPort}`;
    const stderr = await failsCleanly([
      'serve',
      '-c',
      serveConfig('g.yaml', address, '127.0.0.1:0'),
    ]);
    expect(stderr).toContain(inUse(address, 'server.grpcAddress'));
  });

  it('gRPC port taken with server.workers: 2: the workers are stopped, not re-forked', async () => {
    const address = `127.0.0.1:${takenPort}`;
    const config = serveConfig('g2.yaml', address, '127.0.0.1:0', { workers: 2 });
    const stderr = await failsCleanly(['serve', '-c', config]);
    expect(stderr).toContain(inUse(address, 'server.grpcAddress'));
  });

  it('HTTP port taken (after the gRPC listener is up: it is closed again)', async () => {
    const address = `127.0.0.1:${takenPort}`;
    const stderr = await failsCleanly([
      'serve',
      '-c',
      serveConfig('h.yaml', '127.0.0.1:0', address),
    ]);
    expect(stderr).toContain(inUse(address, 'server.httpAddress'));
  });

  it.each([1, 2])(
    'HTTP check port taken, server.workers: %i (after the gRPC listener is up: it is closed again)',
    async (workers) => {
      const address = `127.0.0.1:${takenPort}`;
      const config = serveConfig(`hc${workers}.yaml`, '127.0.0.1:0', '127.0.0.1:0', {
        workers,
        httpCheck: address,
      });
      const stderr = await failsCleanly(['serve', '-c', config]);
      expect(stderr).toContain(inUse(address, 'server.httpCheckAddress'));
    },
  );

  it('bad config: names the key and the problem', async () => {
    const bad = file('bad.yaml', ['server: { grpcAdress: 127.0.0.1:0 }']);
    const stderr = await failsCleanly(['serve', '--config', bad]);
    expect(stderr).toContain('jwtexchange serve: invalid configuration:');
    expect(stderr).toContain('server: unknown key(s): grpcAdress');
    expect(stderr).toContain('jwtexchange config check');
  });

  it('unreadable file: names the setting that points at it', async () => {
    const missing = path.join(dir, 'no-such-jwks.json');
    const config = serveConfig('f.yaml', '127.0.0.1:0', '127.0.0.1:0', { jwks: missing });
    const stderr = await failsCleanly(['serve', '--config', config]);
    expect(stderr).toContain(
      `inbound.issuers[0].jwksFile: cannot read ${missing}: no such file (fix the path`,
    );
  });

  it('unreadable config file: says which file', async () => {
    const stderr = await failsCleanly(['serve', '--config', path.join(dir, 'absent.yaml')]);
    expect(stderr).toContain(`cannot read ${path.join(dir, 'absent.yaml')}`);
  });
});

describe('jwtexchange sts fails fast and says what to change', { timeout: 120_000 }, () => {
  it('listen port taken', async () => {
    const address = `127.0.0.1:${takenPort}`;
    const stderr = await failsCleanly(['sts', '--config', stsConfig('s1.yaml', address)]);
    expect(stderr).toContain(inUse(address, 'listen'));
  });

  it('metrics port taken (after token-exchange is listening: it is closed again)', async () => {
    const address = `127.0.0.1:${takenPort}`;
    const config = stsConfig('s2.yaml', '127.0.0.1:0', [`metricsAddress: '${address}'`]);
    const stderr = await failsCleanly(['sts', '--config', config]);
    expect(stderr).toContain(inUse(address, 'metricsAddress'));
  });

  it('bad config: names the key and the problem', async () => {
    const config = file('s3.yaml', ['listen: 127.0.0.1:0', 'issuer: not a url']);
    const stderr = await failsCleanly(['sts', '--config', config]);
    expect(stderr).toContain('jwtexchange sts: invalid configuration:');
    expect(stderr).toMatch(/- issuer: /);
  });

  it('unreadable key: names tls.keyFile', async () => {
    const config = file('s4.yaml', [
      'listen: 127.0.0.1:0',
      'issuer: https://token-exchange.test',
      'tls: { certFile: pki/server.pem, keyFile: pki/gone.key, clientCaFile: pki/ca.pem }',
    ]);
    const stderr = await failsCleanly(['sts', '--config', config]);
    expect(stderr).toContain(`tls.keyFile: cannot read ${path.join(dir, 'pki/gone.key')}`);
  });
});

describe('jwtexchange dev-auth serve fails fast', { timeout: 120_000 }, () => {
  it('port taken: names --port', async () => {
    const stderr = await failsCleanly(['dev-auth', 'serve', '--port', String(takenPort)]);
    expect(stderr).toContain(inUse(`127.0.0.1:${takenPort}`, '--port'));
  });
});

describe('jwtexchange dev (npm start)', { timeout: 120_000 }, () => {
  /** Ports of our own, never the defaults another `npm start` may hold; `taken` for one flag. */
  const ports = async (taken?: string) => {
    const reserved = await Promise.all([1, 2, 3, 4].map(() => reservePort()));
    const flags = ['--grpc-port', '--http-port', '--sts-port', '--auth-port'];
    const args = flags.flatMap((f, i) => [f, String(f === taken ? takenPort : reserved[i]!.port)]);
    const port = (flag: string) => reserved[flags.indexOf(flag)]!.port;
    return { args, port, release: () => reserved.forEach((r) => r.release()) };
  };
  const devDir = () => mkdtempSync(path.join(dir, 'dev-'));

  it.each([
    [
      '--grpc-port',
      'gRPC port taken, after the rest is up: stops token-exchange, auth.service and SpiceDB',
    ],
    ['--sts-port', 'token-exchange port taken: names --sts-port'],
  ])('%s: %s', async (flag) => {
    const p = await ports(flag);
    try {
      const stderr = await failsCleanly(['dev', '--dir', devDir(), ...p.args]);
      expect(stderr).toContain(inUse(`127.0.0.1:${takenPort}`, flag));
    } finally {
      p.release();
    }
  });

  it('a --dir it cannot use: names --dir', async () => {
    const notADir = file('plain-file', ['x']);
    const stderr = await failsCleanly(['dev', '--dir', notADir]);
    expect(stderr).toContain(`jwtexchange dev: cannot use --dir ${notADir}`);
  });

  it('a bad port flag is refused before anything starts', async () => {
    const stderr = await failsCleanly(['dev', '--dir', devDir(), '--grpc-port', 'nine']);
    expect(stderr).toContain('--grpc-port must be a port number (1-65535)');
  });

  it('starts on the ports given, reports them, and stops everything on SIGTERM with exit 0', async () => {
    const p = await ports();
    try {
      const dev = await startCliServer(['dev', '--dir', devDir(), ...p.args]);
      expect(dev.addresses).toMatchObject({
        grpc: `127.0.0.1:${p.port('--grpc-port')}`,
        http: `127.0.0.1:${p.port('--http-port')}`,
        sts: `https://127.0.0.1:${p.port('--sts-port')}`,
        auth: `http://127.0.0.1:${p.port('--auth-port')}`,
      });
      const ready = await fetch(`http://${dev.addresses.http}/readyz`);
      expect(ready.status).toBe(200);
      expect(dev.output()).toContain(`--server ${dev.addresses.grpc}`);
      expect(await dev.stop()).toBe(0);
    } finally {
      p.release();
    }
  });
});

describe('npm run bench without h2load', { timeout: 120_000 }, () => {
  it('says how to install it and exits 2 before starting anything', async () => {
    const empty = mkdtempSync(path.join(dir, 'no-tools-'));
    const res = await finished(
      spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--duration', '1'], {
        cwd: ROOT,
        // No h2load in the tools folder, none on PATH.
        env: { ...process.env, JWTEXCHANGE_TOOLS_DIR: empty, PATH: empty },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      }),
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('h2load is not installed: run `scripts/setup-tools.sh h2load`');
    expect(res.leftBehind).toEqual([]);
  });
});
