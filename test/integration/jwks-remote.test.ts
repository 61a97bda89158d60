import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/manual-time.js';
import { parseConfig } from '../../src/config/load.js';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { REASONS } from '../../src/errors.js';
import { httpJwksLoader } from '../../src/jwt/jwks-source.js';
import { createCa, issueLeaf } from '../../src/pki/certificates.js';
import { startApp, type RunningApp } from '../../src/server/app.js';
import { ForgeIssuer, jwks, newKey, signES256, type ForgeKey } from '../helpers/jwt-forge.js';
import { waitFor } from '../helpers/ports.js';
import { PLANTED, testLogger } from '../helpers/run-logs.js';

/**
 * The real server fetching its issuer's JWKS from a real local endpoint, over https with a
 * private CA (jwksCaFile) and over loopback http. Time is a ManualClock handed to the server, so
 * cooldown and staleness are crossed by moving the clock, not by waiting.
 */

const COOLDOWN_MS = 30_000;
const MAX_STALE_MS = 600_000;

interface JwksEndpoint {
  readonly url: string;
  /** What the endpoint serves; change it to rotate keys. */
  keys: ForgeKey[];
  hits: number;
  close(): Promise<void>;
}

async function startJwksEndpoint(tls?: { cert: string; key: string }): Promise<JwksEndpoint> {
  const endpoint = { keys: [] as ForgeKey[], hits: 0 };
  const handler: http.RequestListener = (req, res) => {
    if (req.url !== '/.well-known/jwks.json') return void res.writeHead(404).end();
    endpoint.hits++;
    res
      .writeHead(200, { 'content-type': 'application/jwk-set+json' })
      .end(JSON.stringify(jwks(...endpoint.keys)));
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(endpoint, {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}

describe.each(['https', 'http'] as const)('remote JWKS over %s', (scheme) => {
  const clock = new ManualClock(Date.now());
  const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-jwks-'));
  const logs: string[] = [];
  let caFile: string | undefined;
  let endpoint: JwksEndpoint;
  let forge: ForgeIssuer;
  let app: RunningApp;
  let client: AuthorizationClient;
  let k1: ForgeKey;
  let k2: ForgeKey;

  beforeAll(async () => {
    [k1, k2] = await Promise.all([newKey('k1'), newKey('k2')]);
    forge = new ForgeIssuer('https://remote-issuer.test', k1, 'gateway', () => clock.now());
    let tls: { cert: string; key: string } | undefined;
    if (scheme === 'https') {
      const ca = await createCa('jwks test CA');
      tls = await issueLeaf(ca, {
        commonName: 'jwks',
        usage: 'server',
        ipAddresses: ['127.0.0.1'],
      });
      caFile = path.join(dir, 'ca.pem');
      writeFileSync(caFile, ca.cert);
    }
    endpoint = await startJwksEndpoint(tls);
    endpoint.keys = [k1];
    const config = parseConfig(
      {
        server: { grpcAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', shutdownGraceMs: 2000 },
        inbound: {
          issuers: [
            {
              issuer: forge.issuer,
              jwksUri: endpoint.url,
              ...(caFile ? { jwksCaFile: path.basename(caFile) } : {}),
              audiences: ['gateway'],
              jwks: {
                refreshIntervalMs: 3_600_000,
                cooldownMs: COOLDOWN_MS,
                maxStaleMs: MAX_STALE_MS,
                timeoutMs: 30_000, // not about timeouts: room on a busy machine
              },
            },
          ],
        },
      },
      dir,
    );
    app = await startApp(config, { clock, logger: testLogger(`jwks-remote-${scheme}`, logs) });
    await app.whenReady(60_000);
    client = new AuthorizationClient(`127.0.0.1:${app.grpcPort}`);
  });

  afterAll(async () => {
    client?.close();
    await app?.shutdown();
    await endpoint?.close();
  });

  const tokenFor = (key: ForgeKey) =>
    signES256(key, forge.header({ kid: key.kid }), forge.claims({ sub: `svc-${key.kid}` }));

  async function decide(token: string): Promise<string> {
    const res = await client.check(
      syntheticCheckRequest({ headers: { authorization: `Bearer ${token}` } }),
    );
    if (res.status.code === 0) return 'allowed';
    const reason = res.status.message!.split(':')[0]! as keyof typeof REASONS;
    expect(res.status.code).toBe(REASONS[reason].grpc);
    return reason;
  }

  const readyz = async () => (await fetch(`http://127.0.0.1:${app.httpPort}/readyz`)).status;

  it('loads the key set from the endpoint at start and verifies with it', async () => {
    expect(endpoint.hits).toBe(1);
    expect(await decide(tokenFor(k1))).toBe('allowed');
    expect(await readyz()).toBe(200);
  });

  it('picks up a rotated key through the unknown-kid refetch, once per cooldown', async () => {
    endpoint.keys = [k1, k2];
    expect(await decide(tokenFor(k2))).toBe('unknown_key');
    expect(endpoint.hits).toBe(1);

    clock.advance(COOLDOWN_MS);
    expect(await decide(tokenFor(k2))).toBe('allowed');
    expect(endpoint.hits).toBe(2);
    expect(await decide(tokenFor(k1))).toBe('allowed');
  });

  it('keeps serving the cached key set while the endpoint is down', async () => {
    await endpoint.close();
    clock.advance(COOLDOWN_MS);
    const k3 = await newKey('k3');
    // An unknown kid makes the server try the endpoint, which now refuses connections: it may
    // be a rotation it cannot see, so the answer is a retriable 503, not a 401.
    expect(await decide(tokenFor(k3))).toBe('jwks_unavailable');
    expect(logs.some((l) => l.includes('jwks load failed'))).toBe(true);

    expect(await decide(tokenFor(k1))).toBe('allowed');
    expect(await decide(tokenFor(k2))).toBe('allowed');
    expect(await readyz()).toBe(200);
  });

  it('stops trusting the cached set once it is older than maxStaleMs', async () => {
    clock.advance(MAX_STALE_MS);
    expect(await decide(tokenFor(k1))).toBe('jwks_unavailable');
    expect(await readyz()).toBe(503);
  });

  it.runIf(scheme === 'https')('trusts the endpoint only through jwksCaFile', async () => {
    const other = await createCa('some other CA');
    const restarted = await startJwksEndpoint(
      await issueLeaf(await createCa('endpoint CA'), {
        commonName: 'jwks',
        usage: 'server',
        ipAddresses: ['127.0.0.1'],
      }),
    );
    try {
      await expect(httpJwksLoader(restarted.url, 2_000, Buffer.from(other.cert))()).rejects.toThrow(
        /request to 127\.0\.0\.1:\d+ failed/,
      );
      await expect(httpJwksLoader(restarted.url, 2_000)()).rejects.toThrow(/failed/);
      expect(restarted.hits).toBe(0);
    } finally {
      await restarted.close();
    }
  });
});

describe('a jwksUri with credentials (finding 6)', () => {
  let server: http.Server;
  let app: RunningApp;
  let jwksUri: string;
  const logs: string[] = [];

  beforeAll(async () => {
    // An endpoint that needs the credentials in the URL and answers an error.
    server = http.createServer((_req, res) => void res.writeHead(500).end('down'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-jwks-cred-'));
    jwksUri = `http://${PLANTED.urlUser}:${PLANTED.urlPassword}@127.0.0.1:${port}/.well-known/jwks.json?access_token=${PLANTED.urlQuerySecret}`;
    const config = parseConfig(
      {
        server: { grpcAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', shutdownGraceMs: 2000 },
        inbound: {
          issuers: [
            {
              issuer: 'https://issuer-with-credentials.test',
              jwksUri,
              audiences: ['gateway'],
            },
          ],
        },
      },
      dir,
    );
    app = await startApp(config, { logger: testLogger('jwks-credentials', logs) });
  });

  afterAll(async () => {
    await app?.shutdown();
    server?.closeAllConnections();
    await new Promise<void>((r) => server?.close(() => r()));
  });

  it('logs the failed load with origin and path only', async () => {
    await waitFor(() => logs.some((l) => l.includes('jwks load failed')), 'a failed JWKS load');
    const line = logs.find((l) => l.includes('jwks load failed'))!;
    expect(JSON.parse(line).error).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json answered 500$/,
    );
    const all = logs.join('\n');
    for (const planted of Object.values(PLANTED)) expect(all).not.toContain(planted);
  });

  it('names the URL in the loader error itself as origin and path, not only after scrubbing', async () => {
    const err = (await httpJwksLoader(jwksUri, 2_000)().catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json answered 500$/,
    );
  });
});
