import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DevPki } from '../../src/pki/dev-pki.js';
import { httpRequest } from '../../src/net/http-client.js';
import { ROOT } from './tools.js';

/**
 * Keycloak (Maven Central `org.keycloak:keycloak-quarkus-dist`, installed and pre-built by
 * scripts/setup-tools.sh) as a test peer: a real, independent authorization server with RFC
 * 8705 X.509 client authentication and standard token exchange (RFC 8693, "V2"). Only the realm
 * is ours. It serves HTTPS with the dev PKI's server certificate on a port it picks itself
 * (read from its log), asks for client certificates, and trusts the dev CA.
 *
 * The installation in .tools is shared and read-only here: each run gets its own home folder
 * (its own data/, where Keycloak writes its truststore and transaction log) whose lib, conf,
 * providers and themes link to the installation.
 */
export interface RunningKeycloak {
  readonly url: string;
  /** The realm's issuer (https://127.0.0.1:<port>/realms/<realm>). */
  issuer(realm: string): string;
  /** Creates a realm from its JSON representation (clients, users, mappers). */
  createRealm(representation: Record<string, unknown>): Promise<void>;
  /** A user's access token from a public client with direct access grants. */
  passwordToken(realm: string, client: string, username: string, password: string): Promise<string>;
  logs(): string;
  stop(): Promise<void>;
}

function keycloakInstall(): string {
  const dir = path.join(ROOT, '.tools', 'bin', 'keycloak');
  if (!existsSync(path.join(dir, 'bin', 'kc.sh'))) {
    throw new Error(
      'keycloak is not installed: run `npm run setup` (scripts/setup-tools.sh keycloak)',
    );
  }
  return dir;
}

/** A private home: kc.sh copied (it derives the home from its own path), the rest linked. */
function privateHome(install: string): string {
  const home = mkdtempSync(path.join(tmpdir(), 'jwtx-keycloak-'));
  for (const entry of ['lib', 'conf', 'providers', 'themes']) {
    symlinkSync(path.join(install, entry), path.join(home, entry));
  }
  mkdirSync(path.join(home, 'bin'));
  for (const entry of readdirSync(path.join(install, 'bin'))) {
    if (entry === 'kc.sh')
      copyFileSync(path.join(install, 'bin', entry), path.join(home, 'bin', entry));
    else symlinkSync(path.join(install, 'bin', entry), path.join(home, 'bin', entry));
  }
  mkdirSync(path.join(home, 'data'));
  return home;
}

const LISTENING = /Listening on: (https:\/\/127\.0\.0\.1:\d+)/;

export async function startKeycloak(
  pki: DevPki,
  startTimeoutMs = 280_000,
): Promise<RunningKeycloak> {
  const home = privateHome(keycloakInstall());
  const adminPassword = randomBytes(12).toString('hex');
  const child: ChildProcess = spawn(
    path.join(home, 'bin', 'kc.sh'),
    [
      'start',
      '--optimized',
      '--http-enabled=false',
      '--http-host=127.0.0.1',
      '--https-port=0',
      '--hostname-strict=false',
      // No cluster: a JGroups channel would listen on every interface (network only on loopback).
      '--cache=local',
      `--https-certificate-file=${pki.serverCertFile}`,
      `--https-certificate-key-file=${pki.serverKeyFile}`,
      `--truststore-paths=${pki.caFile}`,
    ],
    {
      env: {
        ...process.env,
        KC_BOOTSTRAP_ADMIN_USERNAME: 'admin',
        KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
        JAVA_OPTS_KC_HEAP: '-Xms64m -Xmx512m',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // kc.sh starts java as a child: its own process group lets stop() end both.
      detached: true,
    },
  );
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  /** Resolves once no process of the group is left (java outlives kc.sh by a moment). */
  const groupGone = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        process.kill(-child.pid!, 0);
      } catch {
        return;
      }
      if (Date.now() > deadline) return signal('SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  let output = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`keycloak did not start in ${startTimeoutMs} ms:\n${output}`)),
      startTimeoutMs,
    );
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = LISTENING.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`keycloak exited (${code}) before listening:\n${output}`));
    });
  }).catch(async (err: unknown) => {
    signal('SIGKILL');
    await exited;
    await groupGone(10_000);
    rmSync(home, { recursive: true, force: true });
    throw err;
  });
  // Network only on loopback: a cluster channel would listen on every interface.
  if (/ISPN000078|FD_SOCK2/.test(output)) {
    signal('SIGKILL');
    await exited;
    await groupGone(10_000);
    rmSync(home, { recursive: true, force: true });
    throw new Error('keycloak started a cluster channel: rebuild it with --cache=local');
  }
  const ca = readFileSync(pki.caFile);
  const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
  const post = (target: string, body: string, headers: Record<string, string>) =>
    httpRequest(`${url}${target}`, { method: 'POST', timeoutMs: 60_000, ca, headers, body });
  const tokenOf = async (realm: string, params: Record<string, string>) => {
    const res = await post(`/realms/${realm}/protocol/openid-connect/token`, form(params), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    if (res.status !== 200)
      throw new Error(`keycloak token request: HTTP ${res.status} ${res.body}`);
    return (JSON.parse(res.body) as { access_token: string }).access_token;
  };
  return {
    url,
    issuer: (realm) => `${url}/realms/${realm}`,
    async createRealm(representation) {
      const admin = await tokenOf('master', {
        grant_type: 'password',
        client_id: 'admin-cli',
        username: 'admin',
        password: adminPassword,
      });
      const res = await post('/admin/realms', JSON.stringify(representation), {
        'content-type': 'application/json',
        authorization: `Bearer ${admin}`,
      });
      if (res.status !== 201)
        throw new Error(`keycloak realm import: HTTP ${res.status} ${res.body}`);
    },
    passwordToken: (realm, client, username, password) =>
      tokenOf(realm, { grant_type: 'password', client_id: client, username, password }),
    logs: () => output,
    async stop() {
      signal('SIGTERM');
      if (child.exitCode === null) await exited;
      await groupGone(30_000);
      rmSync(home, { recursive: true, force: true });
    },
  };
}
