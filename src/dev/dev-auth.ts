import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, type JWK } from 'jose';
import { nowSeconds, systemClock, type Clock } from '../clock.js';
import { isLoopbackHost } from '../config/fields.js';
import { formatHostPort } from '../net/host-port.js';
import { generateEcKeyPair } from '../pki/ec-key-pair.js';

/**
 * A development stand-in for auth.service: an ES256 user-token issuer on loopback. It publishes
 * its JWKS at /.well-known/jwks.json and mints user tokens (Teleport ids such as
 * cloud-teleport-aleksander.rykalin included) in-process or via POST /mint. Never for production:
 * /mint signs anything it is asked to, which is why it only listens on loopback.
 */
export const DEV_AUTH_AUDIENCE = 'token-exchange';

export interface DevAuthOptions {
  readonly port?: number;
  readonly host?: string;
  /** Default http://<host>:<port>. */
  readonly issuer?: string;
  readonly clock?: Clock;
}

export interface MintRequest {
  readonly sub: string;
  readonly aud?: string | string[];
  readonly ttlSeconds?: number;
  /** Extra claims, e.g. may_act. */
  readonly claims?: Record<string, unknown>;
}

export interface DevAuth {
  readonly issuer: string;
  readonly url: string;
  readonly jwksUrl: string;
  readonly port: number;
  mint(request: MintRequest): Promise<string>;
  close(): Promise<void>;
}

const MAX_BODY = 4_096;
const RESERVED = new Set(['iss', 'sub', 'aud', 'iat', 'exp', 'jti']);

export function validateMint(input: unknown): MintRequest {
  const r = (input ?? {}) as Record<string, unknown>;
  if (typeof r.sub !== 'string' || r.sub.length === 0 || r.sub.length > 256) {
    throw new Error('sub must be a string of 1 to 256 characters');
  }
  const audOk = (a: unknown) => typeof a === 'string' && a.length > 0;
  if (
    r.aud !== undefined &&
    !(audOk(r.aud) || (Array.isArray(r.aud) && r.aud.length > 0 && r.aud.every(audOk)))
  ) {
    throw new Error('aud must be a non-empty string or list of strings');
  }
  const ttl = r.ttlSeconds;
  if (
    ttl !== undefined &&
    (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < -86_400 || ttl > 86_400)
  ) {
    throw new Error(
      'ttlSeconds must be an integer within one day (negative mints an expired token)',
    );
  }
  const claims = r.claims;
  if (
    claims !== undefined &&
    (typeof claims !== 'object' || claims === null || Array.isArray(claims))
  ) {
    throw new Error('claims must be an object');
  }
  return r as unknown as MintRequest;
}

export async function startDevAuth(options: DevAuthOptions = {}): Promise<DevAuth> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) throw new Error(`dev-auth listens on loopback only, not ${host}`);
  const clock = options.clock ?? systemClock;
  const { privateKey, publicKey } = generateEcKeyPair();
  const kid = randomUUID();
  const jwk = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: 'ES256', use: 'sig' };
  let issuer = options.issuer ?? '';

  const mint = async ({
    sub,
    aud = DEV_AUTH_AUDIENCE,
    ttlSeconds = 3600,
    claims = {},
  }: MintRequest) => {
    const iat = nowSeconds(clock);
    const extra = Object.fromEntries(Object.entries(claims).filter(([k]) => !RESERVED.has(k)));
    return new SignJWT(extra)
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setSubject(sub)
      .setAudience(aud)
      .setIssuedAt(iat)
      .setJti(randomUUID())
      .setExpirationTime(iat + ttlSeconds)
      .sign(privateKey);
  };

  const server = http.createServer(
    (req, res) => void handle(req, res, { issuer: () => issuer, jwk, mint }),
  );
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${formatHostPort(host, port)}`;
  if (!issuer) issuer = url;
  return {
    issuer,
    url,
    port,
    jwksUrl: `${url}/.well-known/jwks.json`,
    mint,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Handlers {
  issuer(): string;
  jwk: JWK;
  mint(r: MintRequest): Promise<string>;
}

async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  h: Handlers,
): Promise<void> {
  const json = (status: number, body: unknown) =>
    res
      .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(JSON.stringify(body));
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/.well-known/jwks.json')
    return void json(200, { keys: [h.jwk] });
  if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
    return void json(200, { issuer: h.issuer(), jwks_uri: `${h.issuer()}/.well-known/jwks.json` });
  }
  if (req.method !== 'POST' || path !== '/mint') return void json(404, { error: 'not_found' });
  try {
    const body = await readSmallBody(req);
    json(200, { token: await h.mint(validateMint(JSON.parse(body))) });
  } catch (err) {
    json(400, { error: 'invalid_request', error_description: (err as Error).message });
  }
}

function readSmallBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_BODY) {
        req.destroy();
        reject(new Error(`body exceeds ${MAX_BODY} bytes`));
      }
    });
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}
