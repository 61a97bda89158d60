import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { CALLER_MESSAGES, type ReasonCode } from '../../src/errors.js';
import { createDevPki, type DevPki } from '../../src/pki/dev-pki.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../helpers/envoy.js';
import { startKeycloak, type RunningKeycloak } from '../helpers/keycloak.js';

/**
 * Interop with Keycloak (docs/interop.md): one realm is both the users' identity provider and
 * the token server. The gateway's sidecar authenticates with RFC 8705 X.509 client
 * authentication (client-x509, exact subject DN) and client_id, discovers the token endpoint at
 * the RFC 8414 location, exchanges callers' access tokens (RFC 8693, Keycloak's standard token
 * exchange; subject_token_type …:access_token) before the app sees them, and injects
 * client-credentials tokens with the `audience` parameter on saga routes — through real Envoys.
 */
const REALM = 'platform';
const USER = 'cloud-teleport-aleksander.rykalin';
const PASSWORD = 'correct horse battery staple';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';

/** An audience mapper: tokens of the client carrying it get `audience` in aud. */
const audienceMapper = (audience: string) => ({
  name: `aud-${audience}`,
  protocol: 'openid-connect',
  protocolMapper: 'oidc-audience-mapper',
  config: {
    'included.client.audience': audience,
    'access.token.claim': 'true',
    'id.token.claim': 'false',
  },
});

/** A confidential client authenticated by its certificate's exact subject DN (no regex). */
const x509Client = (clientId: string, extra: Record<string, unknown> = {}) => ({
  clientId,
  publicClient: false,
  standardFlowEnabled: false,
  directAccessGrantsEnabled: false,
  clientAuthenticatorType: 'client-x509',
  ...extra,
  attributes: {
    'x509.subjectdn': `CN=${clientId}`,
    'x509.allow.regex.pattern.comparison': 'false',
    'access.token.header.type.rfc9068': 'true',
    ...((extra.attributes as object | undefined) ?? {}),
  },
});

const realm = {
  realm: REALM,
  enabled: true,
  users: [
    {
      username: USER,
      enabled: true,
      email: 'aleksander@example.com',
      emailVerified: true,
      firstName: 'Aleksander',
      lastName: 'Rykalin',
      credentials: [{ type: 'password', value: PASSWORD, temporary: false }],
    },
  ],
  clients: [
    // How users get tokens for the gateway in this test (a stand-in for the login flow).
    {
      clientId: 'cli',
      publicClient: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: true,
      attributes: { 'access.token.header.type.rfc9068': 'true' },
      protocolMappers: [audienceMapper('gateway')],
    },
    x509Client('gateway', {
      serviceAccountsEnabled: true,
      attributes: { 'standard.token.exchange.enabled': 'true' },
      protocolMappers: [audienceMapper('vmcontroller')],
    }),
    x509Client('vmcontroller'),
  ],
};

let pki: DevPki;
let pkiDir: string;
let kc: RunningKeycloak;
let issuer: string;

beforeAll(async () => {
  pkiDir = mkdtempSync(path.join(tmpdir(), 'jwtx-keycloak-pki-'));
  pki = await createDevPki({ outDir: pkiDir, services: ['gateway', 'vmcontroller'] });
  kc = await startKeycloak(pki);
  await kc.createRealm(realm);
  issuer = kc.issuer(REALM);
}, 300_000);

afterAll(async () => {
  await kc?.stop();
  rmSync(pkiDir, { recursive: true, force: true });
}, 60_000);

const tokenExchange = (clientId: string, files = clientId) => ({
  issuer,
  clientId,
  certFile: pki.clients[files]!.certFile,
  keyFile: pki.clients[files]!.keyFile,
  caFile: pki.caFile,
});

/** The realm as the gateway's sidecar trusts it: user tokens for the gateway, RS256, at+jwt. */
const realmIssuer = (exchange: Record<string, unknown>) => ({
  issuer,
  jwksUri: `${issuer}/protocol/openid-connect/certs`,
  jwksCaFile: pki.caFile,
  audiences: ['gateway'],
  algorithms: ['RS256'],
  typ: 'at+jwt',
  exchange,
});

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

describe('Keycloak: inbound exchange and outbound injection through Envoy', () => {
  let t: TestApp;
  let app: EchoUpstream;
  let ingress: RunningEnvoy;
  let egress: RunningEnvoy;
  let ingressPort: number;
  let egressPort: number;

  beforeAll(async () => {
    t = await startTestApp(() => ({
      inbound: {
        issuers: [realmIssuer({ audience: 'vmcontroller', subjectTokenType: ACCESS_TOKEN })],
      },
      outbound: {
        tokenExchange: tokenExchange('gateway'),
        audiences: [{ audience: 'vmcontroller' }],
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
        clusters: { jwtexchange: t.app.grpcPort, vmcontroller: app.port },
      }),
    );
    egressPort = egress.port('egress');
  }, 120_000);

  afterAll(async () => {
    await egress?.stop();
    await ingress?.stop();
    await app?.close();
    await t?.app.shutdown();
  });

  it('discovered the token endpoint at the RFC 8414 location of the realm', () => {
    const found = t.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'token endpoint discovered');
    expect(found).toMatchObject({
      issuer,
      metadata: `${kc.url}/.well-known/oauth-authorization-server/realms/${REALM}`,
      tokenEndpoint: `${issuer}/protocol/openid-connect/token`,
    });
  });

  it("exchanges the caller's access token for one for vmcontroller before the app sees it", async () => {
    const userToken = await kc.passwordToken(REALM, 'cli', USER, PASSWORD);
    expect(decodeJwt(userToken)).toMatchObject({ aud: 'gateway', azp: 'cli' });
    const res = await call(ingressPort, { authorization: `Bearer ${userToken}` });
    expect(res.status).toBe(200);
    const seen = app.seen.at(-1)!.headers;
    const exchanged = decodeJwt(String(seen.authorization).replace(/^Bearer /, ''));
    expect(exchanged).toMatchObject({
      iss: issuer,
      aud: 'vmcontroller',
      azp: 'gateway',
      sub: decodeJwt(userToken).sub,
      preferred_username: USER,
    });
    expect(seen['x-jwtauth-subject']).toBe(decodeJwt(userToken).sub);
    expect(seen['x-jwtauth-kind']).toBe('user');
  });

  it('injects a client-credentials token for the audience on the saga route', async () => {
    const res = await call(egressPort, { host: 'vmcontroller', 'x-saga-id': 'saga-1' });
    expect(res.status).toBe(200);
    const token = decodeJwt(String(app.seen.at(-1)!.headers.authorization).slice(7));
    expect(token).toMatchObject({ iss: issuer, azp: 'gateway' });
    expect([token.aud].flat()).toContain('vmcontroller');
  });
});

describe('Keycloak: refusals keep their RFC code', () => {
  it('maps refused exchanges to token_exchange_refused and a wrong certificate to service_token_refused', async () => {
    // subject_token_type …:jwt (Keycloak takes access tokens only) and an audience it does not know.
    const jwtType = await startTestApp(() => ({
      inbound: {
        issuers: [
          realmIssuer({
            audience: 'vmcontroller',
            subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
          }),
        ],
      },
      outbound: { tokenExchange: tokenExchange('gateway') },
    }));
    const unknownAudience = await startTestApp(() => ({
      inbound: {
        issuers: [realmIssuer({ audience: 'billing', subjectTokenType: ACCESS_TOKEN })],
      },
      outbound: { tokenExchange: tokenExchange('gateway') },
    }));
    // The vmcontroller certificate presented as client gateway.
    const wrongCert = await startTestApp(() => ({
      outbound: {
        tokenExchange: tokenExchange('gateway', 'vmcontroller'),
        audiences: [{ audience: 'vmcontroller', prefetch: false }],
      },
    }));
    /** What the caller sees (the code and its fixed sentence), and the deny log line's detail. */
    const check = async (t: TestApp, input: Parameters<typeof syntheticCheckRequest>[0]) => {
      const client = new AuthorizationClient(t.grpcAddress);
      const requestId = `keycloak-${t.logs.length}`;
      try {
        const res = await client.check(
          syntheticCheckRequest({
            ...input,
            headers: { ...input.headers, 'x-request-id': requestId },
          }),
        );
        const line = t.logs.find((l) => l.includes(`"requestId":"${requestId}"`));
        const detail = line ? String((JSON.parse(line) as { message?: unknown }).message) : '';
        return { shown: res.status.message, detail };
      } finally {
        client.close();
      }
    };
    const refused = (reason: ReasonCode, detail: string) => ({
      shown: `${reason}: ${CALLER_MESSAGES[reason]}`,
      detail,
    });
    try {
      const userToken = await kc.passwordToken(REALM, 'cli', USER, PASSWORD);
      const inbound = { headers: { authorization: `Bearer ${userToken}` } };
      expect(await check(jwtType, inbound)).toEqual(
        refused('token_exchange_refused', 'token-exchange refused (invalid_request)'),
      );
      expect(await check(unknownAudience, inbound)).toEqual(
        refused('token_exchange_refused', 'token-exchange refused (invalid_client)'),
      );
      const outbound = {
        extensions: { 'jwtexchange.direction': 'outbound', 'jwtexchange.audience': 'vmcontroller' },
      };
      expect(await check(wrongCert, outbound)).toEqual(
        refused('service_token_refused', 'token-exchange refused (invalid_client)'),
      );
    } finally {
      for (const t of [jwtType, unknownAudience, wrongCert]) await t.app.shutdown();
    }
  }, 60_000);
});
