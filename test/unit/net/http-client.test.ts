import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClientError, httpRequest } from '../../../src/net/http-client.js';
import { createCa, issueLeaf } from '../../../src/pki/certificates.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** One loopback server whose behaviour each test picks by path. */
const routes: Record<string, Handler> = {
  '/json': (req, res) =>
    res
      .writeHead(200, { 'content-type': 'application/json', 'x-seen-accept': req.headers.accept })
      .end('{"ok":true}'),
  '/echo': (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      res.writeHead(201).end(
        JSON.stringify({
          method: req.method,
          length: req.headers['content-length'],
          type: req.headers['content-type'],
          body: Buffer.concat(chunks).toString(),
        }),
      ),
    );
  },
  '/missing': (_req, res) => res.writeHead(404).end('not here'),
  '/hang': () => {},
  '/drip': (_req, res) => {
    res.writeHead(200);
    const timer = setInterval(() => res.write('x'), 20);
    res.on('close', () => clearInterval(timer));
  },
  '/big': (_req, res) => res.writeHead(200).end('x'.repeat(10_000)),
  '/exact': (_req, res) => res.writeHead(200).end('x'.repeat(1_000)),
  '/stream-big': (_req, res) => {
    res.writeHead(200);
    // No content-length: the cap must hold on a streamed body too.
    for (let i = 0; i < 100; i++) res.write('y'.repeat(1_000));
    res.end();
  },
};

const dispatch: Handler = (req, res) =>
  (routes[(req.url ?? '/').split('?')[0]!] ?? routes['/missing']!)(req, res);

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer(dispatch);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function failure(p: Promise<unknown>): Promise<HttpClientError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HttpClientError);
  return err as HttpClientError;
}

describe('httpRequest over http', () => {
  it('returns status, headers and body, asking for JSON', async () => {
    const res = await httpRequest(`${base}/json`, { timeoutMs: 30_000 });
    expect(res.status).toBe(200);
    expect(res.body).toBe('{"ok":true}');
    expect(res.headers['x-seen-accept']).toBe('application/json');
  });

  it('sends a POST body with its length and headers', async () => {
    const res = await httpRequest(`${base}/echo`, {
      method: 'POST',
      timeoutMs: 30_000,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=x&é=1',
    });
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toEqual({
      method: 'POST',
      length: String(Buffer.byteLength('grant_type=x&é=1')),
      type: 'application/x-www-form-urlencoded',
      body: 'grant_type=x&é=1',
    });
  });

  it('returns non-2xx answers instead of throwing', async () => {
    const res = await httpRequest(`${base}/missing`, { timeoutMs: 30_000 });
    expect(res).toMatchObject({ status: 404, body: 'not here' });
  });

  it('times out a server that never answers', async () => {
    const err = await failure(httpRequest(`${base}/hang?secret=abc`, { timeoutMs: 100 }));
    expect(err.kind).toBe('timeout');
    expect(err.message).toMatch(/timed out after 100 ms/);
    expect(err.message).not.toContain('secret');
  });

  it('times out a body that keeps trickling in past the deadline', async () => {
    const err = await failure(httpRequest(`${base}/drip`, { timeoutMs: 150 }));
    expect(err.kind).toBe('timeout');
  });

  it('cuts off a response larger than maxBytes', async () => {
    const err = await failure(httpRequest(`${base}/big`, { timeoutMs: 30_000, maxBytes: 1_000 }));
    expect(err.kind).toBe('too_large');
    expect(err.message).toContain('exceeds 1000 bytes');
    const streamed = await failure(
      httpRequest(`${base}/stream-big`, { timeoutMs: 30_000, maxBytes: 5_000 }),
    );
    expect(streamed.kind).toBe('too_large');
  });

  it('accepts a response of exactly maxBytes', async () => {
    const res = await httpRequest(`${base}/exact`, { timeoutMs: 30_000, maxBytes: 1_000 });
    expect(res.body).toHaveLength(1_000);
  });

  it('reports a refused connection as a network error', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise((r) => closed.close(r));
    const err = await failure(httpRequest(`http://127.0.0.1:${port}/x`, { timeoutMs: 30_000 }));
    expect(err.kind).toBe('network');
    expect(err.message).toContain('ECONNREFUSED');
  });
});

describe('httpRequest over https with a private CA', () => {
  let tls: https.Server;
  let ca: string;
  let client: { cert: string; key: string };
  let url: string;

  beforeAll(async () => {
    const authority = await createCa('http-client test CA');
    ca = authority.cert;
    const serverCert = await issueLeaf(authority, {
      commonName: 'localhost',
      usage: 'server',
      ipAddresses: ['127.0.0.1'],
      dnsNames: ['localhost'],
    });
    client = await issueLeaf(authority, { commonName: 'svc-a', usage: 'client' });
    tls = https.createServer(
      { ...serverCert, ca, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        res.writeHead(200).end(JSON.stringify({ client: peer.subject?.CN ?? null }));
      },
    );
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/jwks.json`;
  });

  afterAll(async () => {
    tls.closeAllConnections();
    await new Promise((r) => tls.close(r));
  });

  it('trusts the server through the configured CA', async () => {
    const res = await httpRequest(url, { timeoutMs: 30_000, ca });
    expect(JSON.parse(res.body)).toEqual({ client: null });
  });

  it('refuses the server without the CA (system trust only)', async () => {
    const err = await failure(httpRequest(url, { timeoutMs: 30_000 }));
    expect(err.kind).toBe('network');
  });

  it('presents a client certificate for mTLS', async () => {
    const res = await httpRequest(url, { timeoutMs: 30_000, ca, ...client });
    expect(JSON.parse(res.body)).toEqual({ client: 'svc-a' });
  });
});
