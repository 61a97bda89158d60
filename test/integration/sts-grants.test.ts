import { readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { DEV_AUTH_AUDIENCE } from '../../src/dev/dev-auth.js';
import { httpJwksLoader, JwksSource } from '../../src/jwt/jwks-source.js';
import { TokenVerifier } from '../../src/jwt/verifier.js';
import { httpRequest } from '../../src/net/http-client.js';
import { parseConfig } from '../../src/config/load.js';
import {
  ACCESS_TOKEN_TYPE,
  EXCHANGE_GRANT,
  JWT_TOKEN_TYPE,
  postToken,
  startTestTokenExchange,
  type TestTokenExchange,
} from '../helpers/token-exchange.js';

const TELEPORT_USER = 'cloud-teleport-aleksander.rykalin';
const VMCONTROLLER_RESOURCE = 'urn:jwtexchange:vmcontroller';

// The grants over real mTLS, checked with the sidecar's own verifier against the published JWKS.
describe('token-exchange grants', () => {
  let sts: TestTokenExchange;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    sts = await startTestTokenExchange({
      services: ['gateway', 'vmcontroller'],
      audiences: {
        gateway: ['gateway', 'vmcontroller', VMCONTROLLER_RESOURCE],
        vmcontroller: ['gateway', 'vmcontroller'],
      },
      delegate: ['gateway'],
      devAuth: true,
      ttlSeconds: 300,
    });
    const issuerConfig = parseConfig(
      {
        inbound: {
          issuers: [
            {
              issuer: sts.issuer,
              jwksUri: sts.jwksUrl,
              audiences: ['gateway', 'vmcontroller'],
              typ: 'at+jwt',
              requiredClaims: ['iat', 'jti', 'client_id'],
              serviceTokens: true,
            },
          ],
        },
      },
      sts.pki.dir,
    ).inbound.issuers[0]!;
    const keys = new JwksSource({
      name: sts.issuer,
      load: httpJwksLoader(sts.jwksUrl, 5_000, readFileSync(sts.pki.caFile)),
      clock: systemClock,
      refreshIntervalMs: 60_000,
      cooldownMs: 1,
      maxStaleMs: 60_000,
    });
    verifier = new TokenVerifier({
      issuers: [{ policy: issuerConfig, keys }],
      clock: systemClock,
      maxTokenBytes: 8_192,
      clockToleranceSeconds: 0,
    });
  });

  afterAll(() => sts?.close());

  const serviceToken = async (service: string, audience: string) => {
    const res = await postToken(sts, service, { grant_type: 'client_credentials', audience });
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  };

  const exchange = (service: string, form: Record<string, string>) =>
    postToken(sts, service, {
      grant_type: EXCHANGE_GRANT,
      subject_token_type: JWT_TOKEN_TYPE,
      ...form,
    });

  const userToken = (
    extra: { aud?: string; ttlSeconds?: number; claims?: Record<string, unknown> } = {},
  ) => sts.devAuth!.mint({ sub: TELEPORT_USER, ...extra });

  it('issues a service token that verifies against the JWKS with the documented claims', async () => {
    const res = await postToken(sts, 'gateway', {
      grant_type: 'client_credentials',
      audience: 'vmcontroller',
    });
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    expect(res.body.issued_token_type).toBeUndefined();
    const token = res.body.access_token as string;
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(typeof header.kid).toBe('string');
    const identity = await verifier.verify(token);
    expect(identity.kind).toBe('service');
    const c = identity.claims;
    expect(c).toMatchObject({
      iss: sts.issuer,
      sub: 'gateway',
      client_id: 'gateway',
      aud: 'vmcontroller',
    });
    expect(c.exp! - c.iat!).toBe(300);
    expect(c.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(c.act).toBeUndefined();
  });

  it('takes an RFC 8707 resource instead of an audience; it becomes the aud', async () => {
    const res = await postToken(sts, 'gateway', {
      grant_type: 'client_credentials',
      resource: VMCONTROLLER_RESOURCE,
      client_id: 'gateway',
    });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token as string)).toMatchObject({
      sub: 'gateway',
      aud: VMCONTROLLER_RESOURCE,
    });
    const exchanged = await exchange('gateway', {
      subject_token: await userToken(),
      resource: VMCONTROLLER_RESOURCE,
    });
    expect(exchanged.status).toBe(200);
    expect(decodeJwt(exchanged.body.access_token as string)).toMatchObject({
      sub: TELEPORT_USER,
      aud: VMCONTROLLER_RESOURCE,
    });
    // A resource the caller may not target, two targets, or a resource with a fragment.
    const refusedForms: Record<string, string>[] = [
      { resource: 'urn:jwtexchange:billing' },
      { resource: VMCONTROLLER_RESOURCE, audience: 'vmcontroller' },
      { resource: `${VMCONTROLLER_RESOURCE}#x` },
    ];
    for (const form of refusedForms) {
      const refused = await postToken(sts, 'gateway', {
        grant_type: 'client_credentials',
        ...form,
      });
      expect(refused.body.error, JSON.stringify(form)).toBe('invalid_target');
    }
  });

  it('gives every token its own jti', async () => {
    const a = decodeJwt(await serviceToken('gateway', 'vmcontroller'));
    const b = decodeJwt(await serviceToken('gateway', 'vmcontroller'));
    expect(a.jti).not.toBe(b.jti);
  });

  it('exchanges a user token: sub stays the user, client_id names the service, no act', async () => {
    const subject = await userToken();
    const res = await exchange('vmcontroller', { subject_token: subject, audience: 'gateway' });
    expect(res.status).toBe(200);
    expect(res.body.issued_token_type).toBe(ACCESS_TOKEN_TYPE);
    const identity = await verifier.verify(res.body.access_token as string);
    expect(identity.kind).toBe('user');
    expect(identity.claims).toMatchObject({
      sub: TELEPORT_USER,
      client_id: 'vmcontroller',
      aud: 'gateway',
    });
    expect(identity.claims.act).toBeUndefined();
    expect(identity.claims.exp!).toBeLessThanOrEqual(decodeJwt(subject).exp!);
  });

  it('never issues a token that outlives the subject token', async () => {
    const res = await exchange('vmcontroller', {
      subject_token: await userToken({ ttlSeconds: 60 }),
      audience: 'gateway',
    });
    expect(res.body.expires_in).toBeLessThanOrEqual(60);
  });

  it('delegation: a delegating service gets act.sub = itself (mTLS identity as actor)', async () => {
    const res = await exchange('gateway', {
      subject_token: await userToken(),
      audience: 'vmcontroller',
    });
    expect(res.status).toBe(200);
    const { claims, kind } = await verifier.verify(res.body.access_token as string);
    expect(kind).toBe('user');
    expect(claims).toMatchObject({
      sub: TELEPORT_USER,
      client_id: 'gateway',
      act: { sub: 'gateway' },
    });
  });

  it('delegation with an actor_token: the service token of the caller itself', async () => {
    const res = await exchange('gateway', {
      subject_token: await userToken(),
      audience: 'vmcontroller',
      actor_token: await serviceToken('gateway', 'vmcontroller'),
      actor_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: JWT_TOKEN_TYPE,
    });
    expect(res.status).toBe(200);
    expect(res.body.issued_token_type).toBe(JWT_TOKEN_TYPE);
    expect(decodeJwt(res.body.access_token as string).act).toEqual({ sub: 'gateway' });
  });

  it('refuses an actor_token from a service that may not delegate', async () => {
    const res = await exchange('vmcontroller', {
      subject_token: await userToken(),
      audience: 'gateway',
      actor_token: await serviceToken('vmcontroller', 'gateway'),
      actor_token_type: ACCESS_TOKEN_TYPE,
    });
    expect(res.body.error).toBe('unauthorized_client');
  });

  it("refuses another service's token as actor_token", async () => {
    const res = await exchange('gateway', {
      subject_token: await userToken(),
      audience: 'vmcontroller',
      actor_token: await serviceToken('vmcontroller', 'gateway'),
      actor_token_type: ACCESS_TOKEN_TYPE,
    });
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toMatch(/actor_token/);
  });

  it('passes an internal token on: the next service delegates, the chain is kept', async () => {
    const first = await exchange('vmcontroller', {
      subject_token: await userToken(),
      audience: 'gateway',
    });
    const internal = first.body.access_token as string;
    const second = await exchange('gateway', {
      subject_token: internal,
      subject_token_type: ACCESS_TOKEN_TYPE,
      audience: 'vmcontroller',
    });
    expect(second.status).toBe(200);
    expect(decodeJwt(second.body.access_token as string)).toMatchObject({
      sub: TELEPORT_USER,
      client_id: 'gateway',
      act: { sub: 'gateway' },
    });
    // The same internal token is not for vmcontroller (aud gateway): it cannot be replayed there.
    const replay = await exchange('vmcontroller', { subject_token: internal, audience: 'gateway' });
    expect(replay.body.error).toBe('invalid_request');
  });

  it('honours may_act in the subject token', async () => {
    const subject = await userToken({ claims: { may_act: { sub: 'vmcontroller' } } });
    const res = await exchange('gateway', { subject_token: subject, audience: 'vmcontroller' });
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toMatch(/may_act/);
  });

  it('refuses a forged subject token (right issuer, wrong key) with invalid_request', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = decodeProtectedHeader(await userToken()).kid!;
    const forged = await new SignJWT({ sub: 'admin' })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer(sts.devAuth!.issuer)
      .setAudience(DEV_AUTH_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    const res = await exchange('gateway', { subject_token: forged, audience: 'vmcontroller' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toMatch(/signature/);
    expect(JSON.stringify(res.body)).not.toContain(forged);
  });

  it('refuses an expired subject token with invalid_request', async () => {
    const res = await exchange('gateway', {
      subject_token: await userToken({ ttlSeconds: -120 }),
      audience: 'vmcontroller',
    });
    expect(res.body.error).toBe('invalid_request');
    expect(res.body.error_description).toMatch(/expired/);
  });

  // Finding 3: accepted inside the clock tolerance after its exp, it yielded expires_in < 0.
  it('refuses a subject token past its exp even inside the clock tolerance, never issuing an expired token', async () => {
    const res = await exchange('gateway', {
      subject_token: await userToken({ ttlSeconds: -10 }),
      audience: 'vmcontroller',
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'subject_token has expired',
    });
    // A few seconds of life left: the issued token lives no longer, and is never born expired.
    const nearlyExpired = await exchange('gateway', {
      subject_token: await userToken({ ttlSeconds: 5 }),
      audience: 'vmcontroller',
    });
    expect(nearlyExpired.status).toBe(200);
    expect(nearlyExpired.body.expires_in).toBeGreaterThan(0);
    expect(nearlyExpired.body.expires_in).toBeLessThanOrEqual(5);
    const claims = decodeJwt(nearlyExpired.body.access_token as string);
    expect(claims.exp!).toBeGreaterThan(claims.iat!);
  });

  it('refuses a subject token meant for another audience or from an unknown issuer', async () => {
    const wrongAud = await exchange('gateway', {
      subject_token: await userToken({ aud: 'billing' }),
      audience: 'vmcontroller',
    });
    expect(wrongAud.body.error).toBe('invalid_request');
    const selfMinted = await serviceToken('vmcontroller', 'gateway');
    // A service token issued to vmcontroller for gateway IS meant for gateway; for vmcontroller it is not.
    const notForCaller = await exchange('vmcontroller', {
      subject_token: selfMinted,
      audience: 'gateway',
    });
    expect(notForCaller.body.error).toBe('invalid_request');
    const garbage = await exchange('gateway', {
      subject_token: 'not-a-jwt',
      audience: 'vmcontroller',
    });
    expect(garbage.body.error).toBe('invalid_request');
  });

  it('answers the RFC errors for malformed requests', async () => {
    const noType = await postToken(sts, 'gateway', {
      grant_type: EXCHANGE_GRANT,
      subject_token: await userToken(),
      audience: 'vmcontroller',
    });
    expect(noType.body.error).toBe('invalid_request');
    const unsupported = await postToken(sts, 'gateway', {
      grant_type: 'password',
      audience: 'vmcontroller',
    });
    expect(unsupported.body.error).toBe('unsupported_grant_type');
    const twoAudiences = await postToken(sts, 'gateway', {
      grant_type: 'client_credentials',
      audience: ['vmcontroller', 'gateway'],
    });
    expect(twoAudiences.body.error).toBe('invalid_target');
    const scope = await postToken(sts, 'gateway', {
      grant_type: 'client_credentials',
      audience: 'vmcontroller',
      scope: 'admin',
    });
    expect(scope.body.error).toBe('invalid_scope');
    const repeated = await postToken(sts, 'gateway', {
      grant_type: ['client_credentials', 'client_credentials'],
      audience: 'vmcontroller',
    });
    expect(repeated.body.error).toBe('invalid_request');
    const noAudience = await postToken(sts, 'gateway', { grant_type: 'client_credentials' });
    expect(noAudience.body.error).toBe('invalid_request');
  });

  it('publishes RFC 8414 metadata (both well-known paths) with the mTLS endpoint alias', async () => {
    for (const wellKnown of ['oauth-authorization-server', 'openid-configuration']) {
      const res = await httpRequest(`${sts.url}/.well-known/${wellKnown}`, {
        timeoutMs: 30_000,
        ca: readFileSync(sts.pki.caFile),
      });
      expect(JSON.parse(res.body)).toMatchObject({
        issuer: sts.issuer,
        token_endpoint: sts.tokenUrl,
        jwks_uri: sts.jwksUrl,
        token_endpoint_auth_methods_supported: ['tls_client_auth'],
        mtls_endpoint_aliases: { token_endpoint: sts.tokenUrl },
        tls_client_certificate_bound_access_tokens: false,
        grant_types_supported: ['client_credentials', EXCHANGE_GRANT],
      });
    }
  });
});
