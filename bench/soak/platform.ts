import type { ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { startDevAuth, type DevAuth } from '../../src/dev/dev-auth.js';
import { httpRequest } from '../../src/net/http-client.js';
import { issueLeaf, loadCa } from '../../src/pki/certificates.js';
import { createDevPki, type DevPki } from '../../src/pki/dev-pki.js';
import { DEFAULT_SPIFFE_PREFIX } from '../../src/pki/service-name.js';
import { freePort, waitFor } from '../../test/helpers/ports.js';
import {
  EXAMPLE_RELATIONSHIPS,
  startSpiceDb,
  stopSpiceDb,
  type RunningSpiceDb,
} from '../../test/helpers/spicedb.js';
import { logTail, spawnLogged, stopChild, unlessExited } from '../lib/child.js';
import { CLI } from '../lib/paths.js';

/** Users allowed to create namespaces in cl0 (members), and the one who is not. */
export const USERS = Array.from({ length: 50 }, (_, i) => `soak-user-${i}`);
export const OUTSIDER = 'mallory';

/**
 * The platform around the gateway, all real and on loopback: auth.service (dev user tokens,
 * minted here), token-exchange as its own `jwtexchange sts` process (keys in a state file, so a
 * restart keeps them; keys rotate every minute), SpiceDB (`spicedb serve`) and the dev PKI.
 */
export interface SoakPlatform {
  readonly pki: DevPki;
  readonly auth: DevAuth;
  readonly spicedb: RunningSpiceDb;
  readonly spicedbKeyFile: string;
  readonly sts: { readonly issuer: string; readonly tokenUrl: string; readonly jwksUrl: string };
  /** SIGTERM token-exchange, wait for it to exit, start it again on the same port. */
  restartTokenExchange(): Promise<number>;
  /** Renews the gateway's client certificate on disk (new key, same name); returns its serial. */
  renewGatewayCertificate(): Promise<string>;
  /** Key ids token-exchange publishes now. */
  publishedKids(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startPlatform(dir: string, resultsDir: string): Promise<SoakPlatform> {
  const pki = await createDevPki({
    outDir: path.join(dir, 'pki'),
    services: ['gateway', 'vmcontroller'],
  });
  const auth = await startDevAuth();
  const spicedb = await startSpiceDb({
    relationships: [EXAMPLE_RELATIONSHIPS, ...USERS.map((u) => `cloud:cl0#member@user:${u}`)].join(
      '\n',
    ),
  }).catch(async (err: unknown) => {
    await auth.close();
    throw err;
  });
  let child: ChildProcess | undefined;
  const fail = async (err: unknown): Promise<never> => {
    if (child) await stopChild(child);
    await auth.close();
    await stopSpiceDb(spicedb);
    throw err;
  };
  const spicedbKeyFile = path.join(dir, 'spicedb.key');
  writeFileSync(spicedbKeyFile, spicedb.presharedKey, { mode: 0o600 });

  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const config = path.join(dir, 'sts.yaml');
  writeFileSync(
    config,
    stringify({
      listen: `127.0.0.1:${port}`,
      issuer: url,
      tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, clientCaFile: pki.caFile },
      allowlist: ['gateway', 'vmcontroller'],
      services: { gateway: { audiences: ['vmcontroller'] } },
      tokens: { ttlSeconds: 120 },
      keys: {
        rotateEverySeconds: 60,
        publishAheadSeconds: 20,
        stateFile: path.join(dir, 'sts-keys.json'),
      },
    }),
  );
  const ca = readFileSync(pki.caFile);
  const jwksUrl = `${url}/.well-known/jwks.json`;
  const fetchJwks = async () =>
    JSON.parse((await httpRequest(jwksUrl, { timeoutMs: 2_000, ca })).body) as {
      keys: { kid: string }[];
    };
  let starts = 0;
  const start = async () => {
    const logFile = path.join(resultsDir, `soak-token-exchange-${++starts}.log`);
    child = spawnLogged([CLI, 'sts', '--config', config], logFile);
    // In production token-exchange runs on other nodes; here it shares the 2 cores. A lower
    // priority keeps its start-up (several CPU-seconds on a busy machine) off the sidecars' time.
    try {
      os.setPriority(child.pid!, 10);
    } catch {
      // not permitted: run at the same priority
    }
    const ready = waitFor(
      async () => (await fetchJwks()).keys.length > 0,
      'token-exchange',
      30_000,
    );
    await unlessExited(child, 'token-exchange', ready).catch((err: Error) => {
      throw new Error(`${err.message}\n${logTail(logFile)}`);
    });
  };
  await start().catch(fail);

  return {
    pki,
    auth,
    spicedb,
    spicedbKeyFile,
    sts: { issuer: url, tokenUrl: `${url}/token`, jwksUrl },
    async restartTokenExchange() {
      const stoppedAt = Date.now();
      if (child) await stopChild(child);
      await start();
      return Date.now() - stoppedAt;
    },
    async renewGatewayCertificate() {
      const authority = await loadCa(
        readFileSync(pki.caFile, 'utf8'),
        readFileSync(pki.caKeyFile, 'utf8'),
      );
      const renewed = await issueLeaf(authority, {
        commonName: 'gateway',
        usage: 'client',
        dnsNames: ['gateway'],
        uris: [`${DEFAULT_SPIFFE_PREFIX}gateway`],
      });
      // Like a certificate manager: each file replaced atomically, the certificate first.
      const files = pki.clients.gateway!;
      for (const [file, pem] of [
        [files.certFile, renewed.cert],
        [files.keyFile, renewed.key],
      ] as const) {
        writeFileSync(`${file}.new`, pem, { mode: 0o600 });
        renameSync(`${file}.new`, file);
      }
      return new X509Certificate(renewed.cert).serialNumber.toLowerCase();
    },
    async publishedKids() {
      return (await fetchJwks()).keys.map((k) => k.kid);
    },
    async close() {
      if (child) await stopChild(child);
      await auth.close();
      await stopSpiceDb(spicedb);
    },
  };
}
