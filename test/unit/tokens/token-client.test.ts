import { writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../helpers/manual-time.js';
import { backoffDelay, refreshPoint } from '../../../src/tokens/backoff.js';
import { TokenEndpointClient, type TokenClientSettings } from '../../../src/tokens/token-client.js';
import { TokenRequestError } from '../../../src/tokens/token-errors.js';

const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

const ok = (claims: object) => ({
  status: 200,
  body: JSON.stringify({
    access_token: jwt({ exp: 9e9, ...claims }),
    token_type: 'Bearer',
    expires_in: 60,
  }),
});

describe('TokenEndpointClient', () => {
  let server: http.Server;
  let answer: { status: number; body: string };
  let lastForm: URLSearchParams;
  let client: TokenEndpointClient;
  let settings: TokenClientSettings;
  const clock = new ManualClock(1_000_000_000_000);

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        lastForm = new URLSearchParams(body);
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-tc-'));
    for (const f of ['cert.pem', 'key.pem'])
      writeFileSync(path.join(dir, f), 'unused over plain http');
    settings = {
      tokenUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
      certFile: path.join(dir, 'cert.pem'),
      keyFile: path.join(dir, 'key.pem'),
      timeoutMs: 30_000,
    };
    client = new TokenEndpointClient(settings, clock);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('refuses an answer whose token is already expired (exp or expires_in in the past)', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        access_token: jwt({ exp: clock.now() / 1000 - 20, aud: 'vmcontroller' }),
        token_type: 'Bearer',
        expires_in: -20,
      }),
    };
    await expect(client.serviceToken({ audience: 'vmcontroller' })).rejects.toMatchObject({
      kind: 'invalid',
      message: 'the issued token has already expired',
    });
  });

  it('asks for client_credentials with the audience and never trusts expires_in past exp', async () => {
    const exp = clock.now() / 1000 + 60;
    answer = {
      status: 200,
      body: JSON.stringify({
        access_token: jwt({ exp, aud: 'vmcontroller' }),
        token_type: 'Bearer',
        expires_in: 3600,
      }),
    };
    const token = await client.serviceToken({ audience: 'vmcontroller' }, 'ns:write');
    expect(Object.fromEntries(lastForm)).toEqual({
      grant_type: 'client_credentials',
      audience: 'vmcontroller',
      scope: 'ns:write',
    });
    expect(token.expiresAtMs).toBe(exp * 1000);
  });

  it('sends client_id (RFC 8705) and an RFC 8707 resource instead of the audience', async () => {
    const withId = new TokenEndpointClient({ ...settings, clientId: 'gateway' }, clock);
    answer = ok({ aud: ['urn:vmcontroller', 'other'] });
    await withId.serviceToken({ resource: 'urn:vmcontroller', audience: 'vmcontroller' });
    expect(Object.fromEntries(lastForm)).toEqual({
      grant_type: 'client_credentials',
      resource: 'urn:vmcontroller',
      client_id: 'gateway',
    });
  });

  it('sends an RFC 8693 exchange with the configured token types', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({ access_token: 'opaque', token_type: 'bearer', expires_in: 30 }),
    };
    const token = await client.exchange('subject', {
      target: { audience: 'gateway' },
      subjectTokenType: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expect(Object.fromEntries(lastForm)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: 'subject',
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'gateway',
    });
    expect(token.expiresAtMs).toBe(clock.now() + 30_000);
    await client.exchange('subject', {
      target: { resource: 'https://gateway.example/' },
      subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
      requestedTokenType: 'urn:ietf:params:oauth:token-type:jwt',
    });
    expect(lastForm.get('resource')).toBe('https://gateway.example/');
    expect(lastForm.get('requested_token_type')).toBe('urn:ietf:params:oauth:token-type:jwt');
    expect(lastForm.has('audience')).toBe(false);
  });

  it("keeps the RFC error code of a refusal; the server's description goes to logs only", async () => {
    answer = {
      status: 400,
      body: JSON.stringify({
        error: 'invalid_target',
        error_description: 'audience billing is not allowed',
      }),
    };
    await expect(client.serviceToken({ audience: 'billing' })).rejects.toMatchObject({
      kind: 'refused',
      oauthError: 'invalid_target',
      deterministic: true,
      message: 'token-exchange refused (invalid_target)',
      detail: 'audience billing is not allowed',
    });
    answer = { status: 401, body: JSON.stringify({ error: 'bad code\r\nx-evil: 1' }) };
    await expect(client.serviceToken({ audience: 'vmcontroller' })).rejects.toMatchObject({
      kind: 'transport',
      message: 'token-exchange answered 401',
    });
  });

  it('refuses to hand out a token of another type or for another audience', async () => {
    const cases: [string, RegExp][] = [
      [
        JSON.stringify({
          access_token: jwt({ aud: 'vmcontroller', exp: 9e9 }),
          token_type: 'DPoP',
        }),
        /token_type/,
      ],
      [JSON.stringify({ access_token: jwt({ aud: 'vmcontroller', exp: 9e9 }) }), /token_type/],
      [JSON.stringify({ token_type: 'Bearer', expires_in: 60 }), /no access_token/],
      [
        JSON.stringify({ access_token: jwt({ aud: 'billing', exp: 9e9 }), token_type: 'Bearer' }),
        /aud does not contain "vmcontroller"/,
      ],
      [
        JSON.stringify({ access_token: jwt({ exp: 9e9 }), token_type: 'Bearer' }),
        /aud does not contain/,
      ],
      [
        JSON.stringify({ access_token: 'opaque', token_type: 'Bearer' }),
        /neither expires_in nor exp/,
      ],
    ];
    for (const [body, message] of cases) {
      answer = { status: 200, body };
      await expect(client.serviceToken({ audience: 'vmcontroller' }), body).rejects.toMatchObject({
        kind: 'invalid',
        deterministic: true,
        message: expect.stringMatching(message),
      });
    }
    // A resource request checks aud against the resource, not the route's audience name.
    answer = ok({ aud: 'vmcontroller' });
    await expect(
      client.serviceToken({ resource: 'urn:vmcontroller', audience: 'vmcontroller' }),
    ).rejects.toMatchObject({
      kind: 'invalid',
      message: expect.stringMatching(/urn:vmcontroller/),
    });
  });

  it('treats answers it cannot read as transport failures', async () => {
    for (const [status, body] of [
      [200, '<html>'],
      [200, 'null'],
      [502, '{}'],
    ] as const) {
      answer = { status, body };
      await expect(client.serviceToken({ audience: 'vmcontroller' })).rejects.toMatchObject({
        kind: 'transport',
      });
    }
  });

  it('asks the endpoint source for the URL on every call and reports a missing one as transport', async () => {
    const source = {
      resolve: () =>
        Promise.reject(new TokenRequestError('transport', 'the token endpoint is not known: x')),
      start() {},
      stop() {},
    };
    const discovered = new TokenEndpointClient({ ...settings, tokenUrl: undefined }, clock, source);
    await expect(discovered.serviceToken({ audience: 'vmcontroller' })).rejects.toMatchObject({
      kind: 'transport',
      message: 'the token endpoint is not known: x',
    });
  });

  it('names the setting and the file it cannot read (the CA is not a client certificate)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-tc-missing-'));
    for (const f of ['cert.pem', 'key.pem']) writeFileSync(path.join(dir, f), 'x');
    const missing = new TokenEndpointClient(
      {
        tokenUrl: 'https://127.0.0.1:1/token',
        certFile: path.join(dir, 'cert.pem'),
        keyFile: path.join(dir, 'key.pem'),
        caFile: path.join(dir, 'ca-typo.pem'),
        timeoutMs: 1_000,
      },
      clock,
    );
    const err = await missing.serviceToken({ audience: 'vmcontroller' }).catch((e: Error) => e);
    expect(err).toMatchObject({ kind: 'transport' });
    expect((err as Error).message).toBe(
      `cannot read outbound.tokenExchange.caFile ${path.join(dir, 'ca-typo.pem')} (no such file)`,
    );
  });

  it('never reads a 5xx, 408 or 429 as a refusal, even with an RFC error code', async () => {
    for (const [status, error] of [
      [503, 'temporarily_unavailable'],
      [500, 'server_error'],
      [500, 'invalid_client'],
      [429, 'slow_down'],
      [408, 'invalid_request'],
    ] as const) {
      answer = { status, body: JSON.stringify({ error }) };
      await expect(
        client.exchange('subject', {
          target: { audience: 'gateway' },
          subjectTokenType: 'urn:ietf:params:oauth:token-type:access_token',
        }),
      ).rejects.toMatchObject({
        kind: 'transport',
        deterministic: false,
        message: `token-exchange answered ${status} (${error})`,
      });
    }
    answer = { status: 401, body: JSON.stringify({ error: 'invalid_client' }) };
    await expect(client.serviceToken({ audience: 'vmcontroller' })).rejects.toMatchObject({
      kind: 'refused',
    });
  });
});

describe('backoff and refresh point', () => {
  it('doubles up to the cap with equal jitter', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => backoffDelay(n, 100, 1_000, () => 1))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelay(3, 100, 1_000, () => 0)).toBe(200);
  });

  it('puts the refresh at the fraction of the lifetime ± jitter', () => {
    expect(refreshPoint(0, 1_000, 0.5, 0.1, () => 0.5)).toBe(500);
    expect(refreshPoint(0, 1_000, 0.5, 0.1, () => 0)).toBe(450);
    expect(refreshPoint(0, 1_000, 0.5, 0.1, () => 1)).toBe(550);
  });
});
