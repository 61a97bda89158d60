import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { parseConfig } from '../../src/config/load.js';
import { CALLER_MESSAGES, type ReasonCode } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { httpRequest } from '../../src/net/http-client.js';
import { createDevPki, type DevPki } from '../../src/pki/dev-pki.js';
import { startApp } from '../../src/server/app.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider.js';
import { waitFor } from '../helpers/ports.js';
import { runLogSink } from '../helpers/run-logs.js';

/**
 * Interop with an independent authorization server, npm `oidc-provider` (docs/interop.md):
 * the gateway's sidecar finds the token endpoint by discovery (OpenID fallback, mTLS alias),
 * authenticates with tls_client_auth + client_id, asks for an RFC 8707 resource, and injects the
 * JWT it gets through a real egress Envoy; vmcontroller's sidecar validates that JWT through a
 * real ingress Envoy against oidc-provider's JWKS. The request crosses both: saga → egress Envoy
 * → ingress Envoy → app.
 */
const RESOURCE = 'urn:jwtexchange:vmcontroller';
const MISMAPPED = 'urn:jwtexchange:mismapped';

let pki: DevPki;
let pkiDir: string;
let op: TestOidcProvider;

beforeAll(async () => {
  pkiDir = mkdtempSync(path.join(tmpdir(), 'jwtx-interop-'));
  pki = await createDevPki({ outDir: pkiDir, services: ['gateway', 'stranger'] });
  op = await startOidcProvider({
    pki,
    clients: { gateway: [RESOURCE, MISMAPPED], stranger: [RESOURCE] },
    audienceOverride: { [MISMAPPED]: 'urn:jwtexchange:somebody-else' },
  });
});

afterAll(async () => {
  await op?.close();
  rmSync(pkiDir, { recursive: true, force: true });
});

function tokenExchange(client: string, files: string = client) {
  return {
    issuer: op.issuer,
    clientId: client,
    certFile: pki.clients[files]!.certFile,
    keyFile: pki.clients[files]!.keyFile,
    caFile: pki.caFile,
  };
}

/** The sidecar's view of oidc-provider's tokens: JWKS over https, aud = the resource. */
function oidcIssuer() {
  return {
    issuer: op.issuer,
    jwksUri: op.jwksUrl,
    jwksCaFile: pki.caFile,
    audiences: [RESOURCE],
    algorithms: ['ES256'],
    typ: 'at+jwt',
    requiredClaims: ['client_id', 'jti'],
    // oidc-provider plays token-exchange here: its client_credentials tokens are service tokens.
    serviceTokens: true,
  };
}

function call(
  port: number,
  headers: Record<string, string>,
): Promise<{ status: number; reason?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/v1/namespaces', method: 'POST', headers },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            reason: res.headers['x-jwtauth-reason'] as string | undefined,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

describe('oidc-provider: service tokens out through Envoy, validated in through Envoy', () => {
  let t: TestApp;
  let app: EchoUpstream;
  let egress: RunningEnvoy;
  let ingress: RunningEnvoy;
  let egressPort: number;
  let ingressPort: number;

  beforeAll(async () => {
    t = await startTestApp(() => ({
      inbound: { issuers: [oidcIssuer()] },
      outbound: {
        tokenExchange: tokenExchange('gateway'),
        audiences: [{ audience: 'vmcontroller', resource: RESOURCE }],
      },
    }));
    app = await startEchoUpstream();
    ingress = await startEnvoy(
      renderEnvoyConfig('envoy/ingress.yaml', {
        clusters: { jwtexchange: t.app.grpcPort, app: app.port },
      }),
    );
    ingressPort = ingress.port('ingress');
    egress = await startEnvoy(
      renderEnvoyConfig('envoy/egress.yaml', {
        clusters: { jwtexchange: t.app.grpcPort, vmcontroller: ingressPort },
      }),
    );
    egressPort = egress.port('egress');
  });

  afterAll(async () => {
    await egress?.stop();
    await ingress?.stop();
    await app?.close();
    await t?.app.shutdown();
  });

  it('found the token endpoint by discovery and used the mTLS alias, not token_endpoint', () => {
    expect(op.tokenRequests.mtls).toBeGreaterThanOrEqual(1);
    expect(op.tokenRequests.plain).toBe(0);
    const found = t.logs
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === 'token endpoint discovered');
    expect(found).toMatchObject({
      issuer: op.issuer,
      metadata: `${op.issuer}/.well-known/openid-configuration`,
      tokenEndpoint: op.mtlsTokenUrl,
      mtlsAlias: true,
    });
  });

  it('injects its JWT on the saga route; the callee sidecar validates it against its JWKS', async () => {
    const res = await call(egressPort, {
      host: 'vmcontroller',
      'x-saga-id': 'saga-7',
      authorization: 'Bearer spoofed',
    });
    expect(res.status).toBe(200);
    const seen = app.seen.at(-1)!.headers;
    const token = String(seen.authorization).replace(/^Bearer /, '');
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    // Signed by oidc-provider (its own JWKS), for the resource.
    const jwks = await httpRequest(op.jwksUrl, { timeoutMs: 5_000, ca: readFileSync(pki.caFile) });
    const { payload } = await jwtVerify(token, createLocalJWKSet(JSON.parse(jwks.body)), {
      issuer: op.issuer,
      audience: RESOURCE,
    });
    expect(payload.sub).toBe('gateway');
    // …and vmcontroller's sidecar verified it and forwarded the identity.
    expect(seen['x-jwtauth-subject']).toBe('gateway');
    expect(seen['x-jwtauth-issuer']).toBe(op.issuer);
    expect(seen['x-jwtauth-kind']).toBe('service');
    const claims = JSON.parse(
      Buffer.from(String(seen['x-jwtauth-claims']), 'base64url').toString(),
    );
    expect(claims).toMatchObject({
      iss: op.issuer,
      sub: 'gateway',
      client_id: 'gateway',
      aud: RESOURCE,
    });
    expect(seen['x-saga-id']).toBe('saga-7');
  });

  it('denies at the callee a token that is not from oidc-provider, or was altered', async () => {
    const forged = await t.issuer.mint({ sub: 'gateway', aud: RESOURCE });
    const denied = await call(ingressPort, { authorization: `Bearer ${forged}` });
    expect(denied).toMatchObject({ status: 401, reason: 'unknown_issuer' });
    await call(egressPort, { host: 'vmcontroller', 'x-saga-id': 's' });
    const real = String(app.seen.at(-1)!.headers.authorization).slice(7);
    const [h, p, s] = real.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const altered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'admin' })).toString('base64url')}.${s}`;
    expect(await call(ingressPort, { authorization: `Bearer ${altered}` })).toMatchObject({
      status: 401,
      reason: 'invalid_signature',
    });
  });
});

describe('oidc-provider: refusals and unusable answers', () => {
  /** The caller sees the code and its fixed sentence; the detail is in the deny log line. */
  const check = async (t: TestApp, audience: string) => {
    const client = new AuthorizationClient(t.grpcAddress);
    const requestId = `${audience}-${t.logs.length}`;
    try {
      const res = await client.check(
        syntheticCheckRequest({
          headers: { 'x-request-id': requestId },
          extensions: { 'jwtexchange.direction': 'outbound', 'jwtexchange.audience': audience },
        }),
      );
      const line = t.logs.find((l) => l.includes(`"requestId":"${requestId}"`));
      const detail = line ? String((JSON.parse(line) as { message?: unknown }).message) : '';
      return { code: res.status.code, message: res.status.message, detail };
    } finally {
      client.close();
    }
  };
  const shown = (reason: ReasonCode) => `${reason}: ${CALLER_MESSAGES[reason]}`;
  const sidecar = (te: object, audiences: object[]) =>
    startTestApp(() => ({
      outbound: { tokenExchange: te, audiences: audiences.map((a) => ({ ...a, prefetch: false })) },
    }));

  it('maps an unknown client, a certificate of another client and a disallowed resource', async () => {
    const unknown = await sidecar(tokenExchange('billing', 'gateway'), [
      { audience: 'vmcontroller', resource: RESOURCE },
    ]);
    const wrongCert = await sidecar(tokenExchange('gateway', 'stranger'), [
      { audience: 'vmcontroller', resource: RESOURCE },
    ]);
    const gateway = await sidecar(tokenExchange('gateway'), [
      { audience: 'billing', resource: 'urn:jwtexchange:billing' },
      { audience: 'elsewhere', resource: MISMAPPED },
    ]);
    try {
      for (const [t, audience, reason, detail] of [
        [
          unknown,
          'vmcontroller',
          'service_token_refused',
          'token-exchange refused (invalid_client)',
        ],
        [
          wrongCert,
          'vmcontroller',
          'service_token_refused',
          'token-exchange refused (invalid_client)',
        ],
        [gateway, 'billing', 'service_token_refused', 'token-exchange refused (invalid_target)'],
        // oidc-provider issues a token whose aud is not the resource asked for: never injected.
        [
          gateway,
          'elsewhere',
          'service_token_invalid',
          'token not injected: the issued token\'s aud does not contain "urn:jwtexchange:mismapped"',
        ],
      ] as const) {
        expect(await check(t, audience)).toEqual({ code: 14, message: shown(reason), detail });
      }
      // The server's own words reach the log, not the deny.
      expect(unknown.logs.join('\n')).toContain('client authentication failed');
    } finally {
      for (const t of [unknown, wrongCert, gateway]) await t.app.shutdown();
    }
  });
});

describe('oidc-provider: metadata unreachable at start', () => {
  it('keeps the sidecar not ready, says why, retries with backoff, and recovers by itself', async () => {
    await op.stopMetadata();
    const logs: Record<string, unknown>[] = [];
    const config = parseConfig(
      {
        server: { grpcAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0' },
        outbound: {
          tokenExchange: tokenExchange('gateway'),
          audiences: [{ audience: 'vmcontroller', resource: RESOURCE }],
          cache: { minBackoffMs: 50, maxBackoffMs: 200 },
        },
      },
      pkiDir,
    );
    const file = runLogSink('interop-oidc-provider');
    const app = await startApp(config, {
      logger: createLogger('debug', (l) => {
        file(l);
        logs.push(JSON.parse(l) as Record<string, unknown>);
      }),
    });
    const down = () =>
      logs.filter(
        (l) => l.msg === 'authorization server metadata unavailable; no token endpoint yet',
      );
    try {
      await waitFor(() => down().length >= 3, 'three failed metadata loads, retried');
      expect(down()[0]).toMatchObject({ level: 'warn', issuer: op.issuer });
      expect(String(down()[0]!.error)).toMatch(/ECONNREFUSED/);
      const report = app.readiness.report();
      expect(report.ready).toBe(false);
      expect(report.gates['token-endpoint']).toEqual({
        ready: false,
        detail: `metadata of ${op.issuer} not loaded`,
      });
      await op.startMetadata();
      await app.whenReady(10_000);
      expect(logs.some((l) => l.msg === 'token endpoint discovered')).toBe(true);
    } finally {
      await op.startMetadata().catch(() => undefined);
      await app.shutdown();
    }
  });
});
