import { sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateEcKeyPair } from '../../../src/pki/ec-key-pair.js';

describe('generateEcKeyPair', () => {
  it('gives a P-256 pair whose halves sign and verify', () => {
    const { privateKey, publicKey } = generateEcKeyPair();
    expect(privateKey.type).toBe('private');
    expect(publicKey.type).toBe('public');
    expect(privateKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    const data = Buffer.from('header.payload');
    const signature = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(
      true,
    );
  });

  it('gives a new key each time, exportable as JWK', () => {
    const a = generateEcKeyPair().publicKey.export({ format: 'jwk' });
    const b = generateEcKeyPair().publicKey.export({ format: 'jwk' });
    expect(a).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(a.x).not.toBe(b.x);
  });
});
