import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoveryPaths } from '../../../src/token-exchange/well-known.js';
import {
  discoverTokenEndpoint,
  metadataUrls,
  tokenEndpointFromMetadata,
} from '../../../src/tokens/server-metadata.js';

describe('metadataUrls', () => {
  it('tries RFC 8414 (well-known inserted before the path) then OpenID (appended)', () => {
    expect(metadataUrls('https://sts.example')).toEqual([
      'https://sts.example/.well-known/oauth-authorization-server',
      'https://sts.example/.well-known/openid-configuration',
    ]);
    expect(metadataUrls('https://kc.example/realms/platform')).toEqual([
      'https://kc.example/.well-known/oauth-authorization-server/realms/platform',
      'https://kc.example/realms/platform/.well-known/openid-configuration',
    ]);
  });

  it('finds the reference token-exchange at a path it serves, with or without an issuer path', () => {
    for (const issuer of ['https://sts.example', 'https://sts.example/oauth']) {
      const served = discoveryPaths(issuer);
      for (const url of metadataUrls(issuer)) expect(served).toContain(new URL(url).pathname);
    }
  });
});

describe('tokenEndpointFromMetadata', () => {
  const issuer = 'https://sts.example';

  it('prefers the RFC 8705 mTLS alias of the token endpoint', () => {
    expect(
      tokenEndpointFromMetadata(issuer, {
        issuer,
        token_endpoint: 'https://sts.example/token',
        mtls_endpoint_aliases: { token_endpoint: 'https://mtls.sts.example/token' },
      }),
    ).toEqual({ tokenEndpoint: 'https://mtls.sts.example/token', mtlsAlias: true });
    expect(
      tokenEndpointFromMetadata(issuer, { issuer, token_endpoint: 'https://sts.example/token' }),
    ).toEqual({ tokenEndpoint: 'https://sts.example/token', mtlsAlias: false });
  });

  it.each([
    [
      'another issuer (RFC 8414 §3.3)',
      { issuer: 'https://evil.example', token_endpoint: 'https://sts.example/token' },
      /different issuer/,
    ],
    [
      'a trailing slash is another issuer',
      { issuer: `${issuer}/`, token_endpoint: 'https://sts.example/token' },
      /different issuer/,
    ],
    ['no token endpoint', { issuer }, /no https token_endpoint/],
    [
      'a plain http token endpoint',
      { issuer, token_endpoint: 'http://sts.example/token' },
      /no https/,
    ],
    [
      'a bad alias',
      {
        issuer,
        token_endpoint: 'https://sts.example/token',
        mtls_endpoint_aliases: { token_endpoint: 'ftp://x' },
      },
      /mtls_endpoint_aliases/,
    ],
    ['not an object', ['x'], /not a JSON object/],
  ])('refuses %s', (_name, doc, message) => {
    expect(() => tokenEndpointFromMetadata(issuer, doc)).toThrow(message);
  });
});

describe('discoverTokenEndpoint', () => {
  let server: http.Server;
  let base: string;
  const answers = new Map<string, { status: number; body: string }>();
  const asked: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      asked.push(req.url!);
      const a = answers.get(req.url!.split('?')[0]!) ?? { status: 404, body: 'not found' };
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('falls back to openid-configuration and checks the issuer there too', async () => {
    const issuer = `${base}/realms/a`;
    answers.set('/realms/a/.well-known/openid-configuration', {
      status: 200,
      body: JSON.stringify({ issuer, token_endpoint: `${base}/realms/a/token` }),
    });
    asked.length = 0;
    const found = await discoverTokenEndpoint(issuer, { timeoutMs: 1_000 });
    expect(found).toEqual({
      tokenEndpoint: `${base}/realms/a/token`,
      mtlsAlias: false,
      metadataUrl: `${base}/realms/a/.well-known/openid-configuration`,
    });
    expect(asked).toEqual([
      '/.well-known/oauth-authorization-server/realms/a',
      '/realms/a/.well-known/openid-configuration',
    ]);
  });

  it('uses the RFC 8414 document first when it is valid', async () => {
    const issuer = `${base}/realms/b`;
    answers.set('/.well-known/oauth-authorization-server/realms/b', {
      status: 200,
      body: JSON.stringify({ issuer, token_endpoint: `${base}/b/token` }),
    });
    asked.length = 0;
    expect((await discoverTokenEndpoint(issuer, { timeoutMs: 1_000 })).tokenEndpoint).toBe(
      `${base}/b/token`,
    );
    expect(asked).toHaveLength(1);
  });

  it('says why no document was usable, naming locations without their query', async () => {
    const issuer = `${base}/realms/c`;
    answers.set('/realms/c/.well-known/openid-configuration', {
      status: 200,
      body: JSON.stringify({ issuer: `${base}/realms/other`, token_endpoint: `${base}/t` }),
    });
    await expect(discoverTokenEndpoint(issuer, { timeoutMs: 1_000 })).rejects.toThrow(
      `no usable authorization server metadata (${base}/.well-known/oauth-authorization-server/realms/c: HTTP 404; ${base}/realms/c/.well-known/openid-configuration: the metadata names a different issuer)`,
    );
  });
});
