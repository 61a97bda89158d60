import { writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { backoffDelay, refreshPoint } from '../../../src/tokens/backoff.js';
import { TokenEndpointClient } from '../../../src/tokens/token-client.js';

const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;

describe('TokenEndpointClient', () => {
  let server: http.Server;
  let answer: { status: number; body: string };
  let lastForm: URLSearchParams;
  let client: TokenEndpointClient;
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
    client = new TokenEndpointClient(
      {
        tokenUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
        certFile: path.join(dir, 'cert.pem'),
        keyFile: path.join(dir, 'key.pem'),
        timeoutMs: 1_000,
      },
      clock,
    );
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('asks for client_credentials with the audience and never trusts expires_in past exp', async () => {
    const exp = clock.now() / 1000 + 60;
    answer = {
      status: 200,
      body: JSON.stringify({ access_token: jwt({ exp }), token_type: 'Bearer', expires_in: 3600 }),
    };
    const token = await client.serviceToken('vmcontroller', 'ns:write');
    expect(Object.fromEntries(lastForm)).toEqual({
      grant_type: 'client_credentials',
      audience: 'vmcontroller',
      scope: 'ns:write',
    });
    expect(token.expiresAtMs).toBe(exp * 1000);
  });

  it('sends an RFC 8693 exchange', async () => {
    answer = { status: 200, body: JSON.stringify({ access_token: 'opaque', expires_in: 30 }) };
    const token = await client.exchange('subject', 'gateway');
    expect(lastForm.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:token-exchange');
    expect(lastForm.get('subject_token_type')).toBe('urn:ietf:params:oauth:token-type:jwt');
    expect(token.expiresAtMs).toBe(clock.now() + 30_000);
  });

  it('keeps the RFC error code of a refusal', async () => {
    answer = {
      status: 400,
      body: JSON.stringify({
        error: 'invalid_target',
        error_description: 'audience billing is not allowed',
      }),
    };
    await expect(client.serviceToken('billing')).rejects.toMatchObject({
      kind: 'refused',
      oauthError: 'invalid_target',
      deterministic: true,
      message: 'token-exchange refused (invalid_target): audience billing is not allowed',
    });
  });

  it('treats answers it cannot use as transport failures', async () => {
    for (const body of [
      '<html>',
      JSON.stringify({ token_type: 'Bearer' }),
      JSON.stringify({ access_token: 'opaque' }),
    ]) {
      answer = { status: 200, body };
      await expect(client.serviceToken('vmcontroller')).rejects.toMatchObject({
        kind: 'transport',
      });
    }
    answer = { status: 502, body: '{}' };
    await expect(client.serviceToken('vmcontroller')).rejects.toMatchObject({ kind: 'transport' });
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
    const err = await missing.serviceToken('vmcontroller').catch((e: Error) => e);
    expect(err).toMatchObject({ kind: 'transport' });
    expect((err as Error).message).toBe(
      `cannot read outbound.tokenExchange.caFile ${path.join(dir, 'ca-typo.pem')} (no such file)`,
    );
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
