import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import type { CheckResponse } from '../../src/envoy/types.js';
import { CALLER_MESSAGES } from '../../src/errors.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { freePort } from '../helpers/ports.js';
import { startTestTokenExchange, type TestTokenExchange } from '../helpers/token-exchange.js';

/**
 * Finding 5: a failed inbound exchange used to put token-exchange's error_description, file paths
 * (ENOENT … tls.key) and addresses into the deny body and the gRPC status message. A caller now
 * sees the reason code and its fixed sentence; the details are in the sidecar's log, on the deny
 * line that carries the request id.
 */
let sts: TestTokenExchange;

beforeAll(async () => {
  // gateway may only ask for vmcontroller tokens: exchanging for audience gateway is refused.
  sts = await startTestTokenExchange({
    services: ['gateway'],
    audiences: { gateway: ['vmcontroller'] },
    devAuth: true,
  });
});

afterAll(async () => sts?.close());

/** A sidecar that exchanges auth.service tokens at token-exchange (or at `tokenUrl`). */
function startExchangingSidecar(
  tokenUrl = sts.tokenUrl,
  gw = sts.pki.clients.gateway!,
): Promise<TestApp> {
  return startTestApp(() => ({
    inbound: { issuers: sts.exchangingIssuers() },
    outbound: {
      tokenExchange: {
        tokenUrl,
        certFile: gw.certFile,
        keyFile: gw.keyFile,
        caFile: sts.pki.caFile,
        timeoutMs: 2_000,
      },
    },
  }));
}

async function check(t: TestApp, requestId: string, grpc = false): Promise<CheckResponse> {
  const token = await sts.devAuth!.mint({ sub: 'cloud-teleport-aleksander.rykalin' });
  const client = new AuthorizationClient(t.grpcAddress);
  try {
    return await client.check(
      syntheticCheckRequest({
        method: grpc ? 'POST' : 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          'x-request-id': requestId,
          ...(grpc ? { 'content-type': 'application/grpc' } : {}),
        },
      }),
    );
  } finally {
    client.close();
  }
}

/** Everything of a CheckResponse that Envoy may show the caller (or its own logs). */
function shown(res: CheckResponse): string {
  return [
    res.status.message ?? '',
    res.denied_response?.body ?? '',
    ...(res.denied_response?.headers ?? []).map((h) => `${h.header.key}: ${h.header.value}`),
  ].join('\n');
}

function denyLine(t: TestApp, requestId: string): Record<string, unknown> {
  const line = t.logs.find((l) => l.includes(requestId) && l.includes('"msg":"deny"'));
  expect(line, `no deny log line for ${requestId}`).toBeDefined();
  return JSON.parse(line!) as Record<string, unknown>;
}

describe('a refused exchange', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startExchangingSidecar()));
  afterAll(async () => t?.app.shutdown());

  it.each([false, true])(
    'shows the caller only the code and its sentence (gRPC caller: %s)',
    async (grpc) => {
      const res = await check(t, `refused-${grpc}`, grpc);
      expect(res.status.message).toBe(
        `token_exchange_refused: ${CALLER_MESSAGES.token_exchange_refused}`,
      );
      const text = shown(res);
      expect(text).not.toMatch(/invalid_target|vmcontroller|not allowed|127\.0\.0\.1/);
      const line = denyLine(t, `refused-${grpc}`);
      expect(line.reason).toBe('token_exchange_refused');
      expect(String(line.message)).toMatch(/invalid_target/);
    },
  );
});

describe('an exchange that cannot read its client key', () => {
  let t: TestApp;
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-deny-details-'));
    const own = {
      certFile: path.join(dir, 'gateway.pem'),
      keyFile: path.join(dir, 'gateway-key.pem'),
    };
    copyFileSync(sts.pki.clients.gateway!.certFile, own.certFile);
    copyFileSync(sts.pki.clients.gateway!.keyFile, own.keyFile);
    t = await startExchangingSidecar(sts.tokenUrl, own);
    // The key disappears after start (a broken Secret mount): the read fails with ENOENT.
    rmSync(own.keyFile);
  });
  afterAll(async () => t?.app.shutdown());

  it('keeps the file path out of the deny and puts it in the log', async () => {
    const res = await check(t, 'enoent-1');
    expect(res.status.message).toBe(
      `token_exchange_unavailable: ${CALLER_MESSAGES.token_exchange_unavailable}`,
    );
    expect(JSON.parse(res.denied_response!.body)).toEqual({
      error: 'token_exchange_unavailable',
      message: CALLER_MESSAGES.token_exchange_unavailable,
    });
    expect(shown(res)).not.toMatch(/ENOENT|\.pem|\/tmp|jwtx-/);
    expect(String(denyLine(t, 'enoent-1').message)).toMatch(/gateway-key\.pem \(no such file\)/);
  });
});

describe('an exchange whose token-exchange is unreachable', () => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    url = `https://127.0.0.1:${await freePort()}/token`;
    t = await startExchangingSidecar(url);
  });
  afterAll(async () => t?.app.shutdown());

  it('keeps the address out of the deny and puts it in the log', async () => {
    const res = await check(t, 'unreachable-1', true);
    expect(res.denied_response!.body).toBe(
      `token_exchange_unavailable: ${CALLER_MESSAGES.token_exchange_unavailable}`,
    );
    expect(shown(res)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|\d{4,5}/);
    expect(String(denyLine(t, 'unreachable-1').message)).toMatch(/ECONNREFUSED/);
  });
});
