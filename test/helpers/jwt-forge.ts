import type { KeyObject } from 'node:crypto';
import { createHmac, randomUUID, sign as cryptoSign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { exportJWK, exportSPKI, type JWK } from 'jose';
import { generateEcKeyPair } from '../../src/pki/ec-key-pair.js';
import { registerSecret, registerToken } from './run-logs.js';

/**
 * Builds hostile and well-formed JWTs for tests. Segments are assembled by hand (raw base64url)
 * so a test can produce what no JWT library would: duplicate members, alg none, bogus
 * signatures, five-part tokens. A segment given as a string is used as the JSON text verbatim,
 * and bytes are used as they are (e.g. invalid UTF-8).
 */
export type Segment = Record<string, unknown> | string | Uint8Array;

export const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

export function encodeSegment(value: Segment): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64url');
  return b64url(typeof value === 'string' ? value : JSON.stringify(value));
}

/** `header.payload.signature` from parts; the signature is taken as already encoded. */
export function assemble(header: Segment, payload: Segment, signature = ''): string {
  return `${encodeSegment(header)}.${encodeSegment(payload)}.${signature}`;
}

/** An ES256 signing key with its kid and public JWK (as an issuer would publish it). */
export interface ForgeKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK;
  /** SubjectPublicKeyInfo PEM of the public key (the classic HS256-confusion secret). */
  readonly publicPem: string;
}

export async function newKey(kid: string = randomUUID()): Promise<ForgeKey> {
  // node:crypto signs raw segments with KeyObjects (src/pki/ec-key-pair.ts: why not jose's).
  const { privateKey, publicKey } = generateEcKeyPair();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  registerSecret('run', 'forged private key', (await exportJWK(privateKey)).d!);
  return { kid, privateKey, publicKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

export const jwks = (...keys: ForgeKey[]): { keys: JWK[] } => ({
  keys: keys.map((k) => k.publicJwk),
});

/** ES256 over the exact segments given (duplicate members survive), JOSE r||s signature. */
export function signES256(key: ForgeKey, header: Segment, payload: Segment): string {
  const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  const sig = cryptoSign('sha256', Buffer.from(input), {
    key: key.privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  const token = `${input}.${b64url(sig)}`;
  registerToken('forged ES256 token', token);
  return token;
}

/** HS256 with arbitrary secret bytes (e.g. the issuer's public key, for alg confusion). */
export function signHS256(secret: string | Buffer, header: Segment, payload: Segment): string {
  const input = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  registerToken('forged HS256 token', token);
  return token;
}

/** An issuer under test control: claims relative to its clock, signing with its current key. */
export class ForgeIssuer {
  constructor(
    readonly issuer: string,
    public key: ForgeKey,
    readonly audience = 'gateway',
    private readonly nowMs: () => number = () => Date.now(),
  ) {}

  static async create(issuer = 'https://forge.jwtexchange.test'): Promise<ForgeIssuer> {
    return new ForgeIssuer(issuer, await newKey());
  }

  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  /** A valid claim set; `overrides` replace members, an `undefined` value removes one. */
  claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const now = this.nowSeconds();
    const base: Record<string, unknown> = {
      iss: this.issuer,
      sub: 'svc-gateway',
      aud: this.audience,
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
    };
    for (const [k, v] of Object.entries(overrides)) {
      if (v === undefined) delete base[k];
      else base[k] = v;
    }
    return base;
  }

  header(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return { alg: 'ES256', typ: 'JWT', kid: this.key.kid, ...overrides };
  }

  /** A correctly signed token; header and claims may be overridden to test each rule alone. */
  token(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
    return signES256(this.key, this.header(header), this.claims(claims));
  }

  /** Writes the issuer's public JWKS (plus extra keys) where a jwksFile config points. */
  writeJwks(file: string, ...extra: ForgeKey[]): void {
    writeFileSync(file, JSON.stringify(jwks(this.key, ...extra)));
  }
}
