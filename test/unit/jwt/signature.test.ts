import { generateKeyPairSync, webcrypto } from 'node:crypto';
import {
  compactVerify,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
} from 'jose';
import { describe, expect, it } from 'vitest';
import { hasSyncVerify, verifySignature } from '../../../src/jwt/signature.js';
import { ALLOWED_ALGORITHMS } from '../../../src/config/sections/inbound.js';

/** A signed token and the verification key as JwksSource hands it out (jose's importJWK). */
async function signed(alg: string, claims: Record<string, unknown> = { sub: 'alice' }) {
  const pair = await generateKeyPair(alg, { extractable: true });
  const token = await new SignJWT(claims).setProtectedHeader({ alg }).sign(pair.privateKey);
  const key = (await importJWK(await exportJWK(pair.publicKey), alg)) as CryptoKey;
  return { token, key };
}

const parts = (token: string) => {
  const [h, p, s] = token.split('.') as [string, string, string];
  return { input: `${h}.${p}`, s, h, p };
};

/** What jose's own (WebCrypto) verification says, for a differential check. */
const joseSays = (token: string, key: CryptoKey) =>
  compactVerify(token, key).then(
    () => true,
    () => false,
  );

describe('synchronous signature verification', () => {
  it('covers every algorithm the configuration accepts', () => {
    for (const alg of ALLOWED_ALGORITHMS) expect(hasSyncVerify(alg), alg).toBe(true);
    expect(hasSyncVerify('HS256')).toBe(false);
    expect(hasSyncVerify('none')).toBe(false);
  });

  for (const alg of ALLOWED_ALGORITHMS) {
    it(`${alg}: agrees with jose on a valid, a tampered and a foreign signature`, async () => {
      const { token, key } = await signed(alg);
      const other = await signed(alg);
      const { input, s, h } = parts(token);
      const tampered = `${h}.${Buffer.from('{"sub":"mallory"}').toString('base64url')}`;
      const foreign = parts(other.token).s;

      expect(verifySignature(alg, key, input, s)).toBe(true);
      expect(await joseSays(token, key)).toBe(true);
      expect(verifySignature(alg, key, tampered, s)).toBe(false);
      expect(await joseSays(`${tampered}.${s}`, key)).toBe(false);
      expect(verifySignature(alg, key, input, foreign)).toBe(false);
      expect(verifySignature(alg, key, input, s.slice(0, -4))).toBe(false);
      expect(verifySignature(alg, key, input, '')).toBe(false);
    });
  }

  it('refuses an ECDSA signature in DER form (JWS requires R || S)', async () => {
    const { token, key } = await signed('ES256');
    const { input, s } = parts(token);
    const raw = Buffer.from(s, 'base64url');
    const der = Buffer.concat([
      Buffer.from([0x30, 0x44, 0x02, 0x20]),
      raw.subarray(0, 32),
      Buffer.from([0x02, 0x20]),
      raw.subarray(32),
    ]);
    expect(verifySignature('ES256', key, input, der.toString('base64url'))).toBe(false);
  });

  it('refuses a key that does not fit the algorithm, as jose does', async () => {
    const es384 = await signed('ES384');
    const es256 = await signed('ES256');
    const { input, s } = parts(es256.token);
    expect(() => verifySignature('ES256', es384.key, input, s)).toThrow(TypeError);
    const rs = await signed('RS256');
    expect(() => verifySignature('PS256', rs.key, input, s)).toThrow(TypeError);
    expect(() => verifySignature('ES256', rs.key, input, s)).toThrow(TypeError);
  });

  it('refuses RSA keys shorter than 2048 bits', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const key = await webcrypto.subtle.importKey(
      'jwk',
      publicKey.export({ format: 'jwk' }),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    expect(() => verifySignature('RS256', key as CryptoKey, 'a.b', 'c')).toThrow(/2048/);
  });
});
