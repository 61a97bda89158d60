import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../helpers/manual-time.js';
import {
  DEV_AUTH_AUDIENCE,
  startDevAuth,
  validateMint,
  type DevAuth,
} from '../../../src/dev/dev-auth.js';
import { httpRequest } from '../../../src/net/http-client.js';

describe('dev auth.service', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let auth: DevAuth;
  beforeAll(async () => {
    auth = await startDevAuth({ clock });
  });
  afterAll(() => auth?.close());

  const jwks = async () =>
    JSON.parse((await httpRequest(auth.jwksUrl, { timeoutMs: 30_000 })).body) as JSONWebKeySet;

  it('mints Teleport-style user tokens that verify against its JWKS', async () => {
    const token = await auth.mint({ sub: 'cloud-teleport-aleksander.rykalin' });
    const { payload } = await jwtVerify(token, createLocalJWKSet(await jwks()), {
      issuer: auth.issuer,
      audience: DEV_AUTH_AUDIENCE,
      currentDate: new Date(clock.now()),
    });
    expect(payload.sub).toBe('cloud-teleport-aleksander.rykalin');
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(payload.iat).toBe(clock.now() / 1000);
  });

  it('mints over POST /mint and refuses a bad request with a clear message', async () => {
    const ok = await httpRequest(`${auth.url}/mint`, {
      method: 'POST',
      body: JSON.stringify({
        sub: 'alice',
        aud: 'x',
        ttlSeconds: 60,
        claims: { may_act: { sub: 'gateway' }, iss: 'forged' },
      }),
      timeoutMs: 30_000,
    });
    const claims = decodeJwt((JSON.parse(ok.body) as { token: string }).token);
    expect(claims).toMatchObject({
      sub: 'alice',
      aud: 'x',
      iss: auth.issuer,
      may_act: { sub: 'gateway' },
    });
    const bad = await httpRequest(`${auth.url}/mint`, {
      method: 'POST',
      body: '{"sub":""}',
      timeoutMs: 30_000,
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('sub must be a string');
  });

  it('refuses to listen beyond loopback', async () => {
    await expect(startDevAuth({ host: '0.0.0.0' })).rejects.toThrow(/loopback only/);
  });

  it('validates mint requests', () => {
    expect(() => validateMint({ sub: 'a', ttlSeconds: 1.5 })).toThrow(/ttlSeconds/);
    expect(() => validateMint({ sub: 'a', aud: [] })).toThrow(/aud/);
    expect(() => validateMint({ sub: 'a', claims: [] })).toThrow(/claims/);
    expect(validateMint({ sub: 'a', ttlSeconds: -60 })).toMatchObject({ sub: 'a' });
  });
});
