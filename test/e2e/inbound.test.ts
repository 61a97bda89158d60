import { Metadata, status } from '@grpc/grpc-js';
import { createNamespaceCaller } from '../helpers/grpc-caller.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startEchoUpstream, type EchoUpstream } from '../helpers/echo-upstream.js';
import { renderEnvoyConfig, startEnvoy, type RunningEnvoy } from '../helpers/envoy.js';

/** A real Envoy (envoy/ingress.yaml) in front of an echo upstream, calling the real server. */
describe('inbound through a real Envoy', () => {
  let t: TestApp;
  let upstream: EchoUpstream;
  let envoy: RunningEnvoy;
  let base: string;
  let port: number;

  beforeAll(async () => {
    t = await startTestApp();
    upstream = await startEchoUpstream();
    envoy = await startEnvoy(
      renderEnvoyConfig('envoy/ingress.yaml', {
        clusters: { jwtexchange: t.app.grpcPort, app: upstream.port },
      }),
    );
    port = envoy.port('ingress');
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await envoy?.stop();
    await upstream?.close();
    await t?.app.shutdown();
  });

  const lastSeen = () => upstream.seen.at(-1)!;

  it('forwards verified identity and removes spoofed x-jwtauth-* headers', async () => {
    const token = await t.issuer.mint({ sub: 'cloud-teleport-aleksander.rykalin' });
    const before = upstream.seen.length;
    const res = await fetch(`${base}/v2/namespaces`, {
      headers: {
        authorization: `Bearer ${token}`,
        'x-jwtauth-subject': 'admin',
        'x-jwtauth-role': 'superuser',
      },
    });
    expect(res.status).toBe(200);
    expect(upstream.seen.length).toBe(before + 1);
    const h = lastSeen().headers;
    expect(h['x-jwtauth-subject']).toBe('cloud-teleport-aleksander.rykalin');
    expect(h['x-jwtauth-issuer']).toBe(t.issuer.issuer);
    expect(h['x-jwtauth-role']).toBeUndefined();
    expect(h.authorization).toBe(`Bearer ${token}`);
    const claims = JSON.parse(Buffer.from(String(h['x-jwtauth-claims']), 'base64url').toString());
    expect(claims).toMatchObject({
      sub: 'cloud-teleport-aleksander.rykalin',
      aud: 'gateway',
      iss: t.issuer.issuer,
    });
  });

  it('denies a missing token with 401 and a Bearer challenge; nothing reaches the app', async () => {
    const before = upstream.seen.length;
    const res = await fetch(`${base}/v2/namespaces`, { headers: { 'x-jwtauth-subject': 'admin' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="jwtexchange"');
    expect(res.headers.get('x-jwtauth-reason')).toBe('missing_token');
    expect(await res.json()).toMatchObject({ error: 'missing_token' });
    expect(upstream.seen.length).toBe(before);
  });

  it('denies an invalid token with 401 error="invalid_token"', async () => {
    const token = await t.issuer.mint({ sub: 'alice', aud: 'someone-else' });
    const res = await fetch(`${base}/v2/namespaces`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="jwtexchange", error="invalid_token", error_description="[^"]+"$/,
    );
    expect(res.headers.get('x-jwtauth-reason')).toBe('invalid_audience');
  });

  it('lets the exempt health route through without a token but still strips spoofed headers', async () => {
    const res = await fetch(`${base}/healthz`, {
      headers: { 'x-jwtauth-subject': 'admin', 'x-jwtauth-extra': 'x' },
    });
    expect(res.status).toBe(200);
    const h = lastSeen().headers;
    expect(lastSeen().path).toBe('/healthz');
    expect(h['x-jwtauth-subject']).toBeUndefined();
    expect(h['x-jwtauth-extra']).toBeUndefined();
  });

  it('denies a gRPC caller with UNAUTHENTICATED and a message', async () => {
    const client = createNamespaceCaller(`127.0.0.1:${port}`);
    const call = client.call;
    const denied = await call(new Metadata());
    expect(denied?.code).toBe(status.UNAUTHENTICATED);
    expect(denied?.details).toContain('missing_token');

    const md = new Metadata();
    md.set('authorization', `Bearer ${await t.issuer.mint({ sub: 'svc-user' })}`);
    const ok = await call(md);
    expect(ok).toBeNull();
    expect(lastSeen().protocol).toBe('h2');
    expect(lastSeen().headers['x-jwtauth-subject']).toBe('svc-user');
    client.close();
  });
});
