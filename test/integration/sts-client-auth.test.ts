import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevPki, type DevPki } from '../../src/pki/dev-pki.js';
import {
  postToken,
  startTestTokenExchange,
  type TestTokenExchange,
} from '../helpers/token-exchange.js';

// Client authentication and the allowlist, over real TLS with certificates from the dev PKI.
describe('token-exchange client authentication (mTLS)', () => {
  let sts: TestTokenExchange;
  let foreignDir: string;
  let foreign: DevPki;

  beforeAll(async () => {
    sts = await startTestTokenExchange({
      services: ['gateway', 'vmcontroller', 'stranger'],
      allowlist: ['gateway', 'vmcontroller'],
      audiences: { gateway: ['vmcontroller'] },
    });
    foreignDir = mkdtempSync(path.join(tmpdir(), 'jwtx-foreign-'));
    // Same service name, different CA: the name alone must not be enough.
    foreign = await createDevPki({ outDir: foreignDir, services: ['gateway'] });
  });

  afterAll(async () => {
    await sts?.close();
    rmSync(foreignDir, { recursive: true, force: true });
  });

  const serviceToken = { grant_type: 'client_credentials', audience: 'vmcontroller' };

  it('answers invalid_client (401, no-store) when no client certificate is presented', async () => {
    const res = await postToken(sts, undefined, serviceToken);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.body.error_description).toMatch(/no client certificate/);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('rejects a certificate signed by another CA', async () => {
    const res = await postToken(sts, foreign.clients.gateway, serviceToken);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.body.error_description).toMatch(/not trusted/);
  });

  it('counts requests by grant and result', async () => {
    await postToken(sts, undefined, serviceToken);
    await postToken(sts, 'gateway', serviceToken);
    const text = await sts.metrics.registry.metrics();
    expect(text).toMatch(
      /jwtexchange_sts_requests_total\{grant="none",result="invalid_client"\} [1-9]/,
    );
    expect(text).toMatch(
      /jwtexchange_sts_requests_total\{grant="client_credentials",result="issued"\} [1-9]/,
    );
    expect(text).toMatch(
      /jwtexchange_sts_request_duration_seconds_count\{grant="client_credentials"\} [1-9]/,
    );
  });

  it('answers unauthorized_client to a trusted service that is not on the allowlist', async () => {
    const res = await postToken(sts, 'stranger', serviceToken);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'unauthorized_client' });
    expect(res.body.error_description).toContain(
      '"stranger" is not on the token-exchange allowlist',
    );
  });

  it('answers invalid_target for an audience the service may not ask for', async () => {
    const res = await postToken(sts, 'gateway', {
      grant_type: 'client_credentials',
      audience: 'billing',
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_target');
  });

  it('issues a token to an allowlisted service', async () => {
    const res = await postToken(sts, 'gateway', serviceToken);
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses a client_id that differs from the certificate', async () => {
    const res = await postToken(sts, 'gateway', { ...serviceToken, client_id: 'vmcontroller' });
    expect(res.body.error).toBe('invalid_client');
  });

  it('accepts only POST with form encoding on the token endpoint', async () => {
    const json = await postToken(sts, 'gateway', serviceToken, { contentType: 'application/json' });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
    const get = await postToken(sts, 'gateway', {}, { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });

  it('refuses a body over the size limit with 413', async () => {
    const big = 'x'.repeat(sts.config.limits.maxBodyBytes + 1);
    const res = await postToken(sts, 'gateway', { ...serviceToken, padding: big });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('invalid_request');
  });

  it('refuses TLS 1.1 with a protocol-version alert from the server', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: sts.port,
        ca: readFileSync(sts.pki.caFile),
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        // Let this client offer TLS 1.1 at all, so a refusal can only come from the server.
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      socket.on('secureConnect', () => {
        socket.end();
        resolve(`connected with ${socket.getProtocol()}`);
      });
      socket.on('error', (err) => resolve(err.message));
    });
    expect(outcome).toMatch(/alert protocol version/);
  });
});

describe('token-exchange request deadline', () => {
  it('cuts off a client that stops sending its body (408, connection closed)', async () => {
    const sts = await startTestTokenExchange({
      services: ['gateway'],
      extra: { limits: { requestTimeoutMs: 1_000 } },
    });
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect(
          {
            host: '127.0.0.1',
            port: sts.port,
            ca: readFileSync(sts.pki.caFile),
            cert: readFileSync(sts.pki.clients.gateway!.certFile),
            key: readFileSync(sts.pki.clients.gateway!.keyFile),
          },
          () =>
            socket.write(
              'POST /token HTTP/1.1\r\nhost: sts\r\n' +
                'content-type: application/x-www-form-urlencoded\r\ncontent-length: 100\r\n\r\ngrant',
            ),
        );
        let data = '';
        socket.on('data', (d: Buffer) => (data += d.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await sts.close();
    }
  });
});
