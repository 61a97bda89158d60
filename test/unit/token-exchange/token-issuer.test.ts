import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../helpers/manual-time.js';
import { KeyStore } from '../../../src/token-exchange/key-store.js';
import { OAuthError } from '../../../src/token-exchange/oauth-error.js';
import { TokenIssuer } from '../../../src/token-exchange/token-issuer.js';

function issuer() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const keyStore = new KeyStore({
    clock,
    rotateEverySeconds: 3600,
    publishAheadSeconds: 600,
    retainSeconds: 900,
  });
  const iss = new TokenIssuer({ issuer: 'https://sts.test', keyStore, clock, ttlSeconds: 300 });
  return { iss, nowS: clock.now() / 1000 };
}

const claims = { subject: 'alice', clientId: 'gateway', audience: 'vmcontroller' };

describe('TokenIssuer', () => {
  it('caps the lifetime at the subject token exp', async () => {
    const { iss, nowS } = issuer();
    const full = await iss.issue(claims);
    expect(full.expiresIn).toBe(300);
    const capped = await iss.issue({ ...claims, notAfter: nowS + 7 });
    expect(capped.expiresIn).toBe(7);
    expect(decodeJwt(capped.token)).toMatchObject({ iat: nowS, exp: nowS + 7 });
  });

  // Finding 3: a subject token accepted within the clock tolerance after its exp gave
  // expires_in: -20 and exp < iat.
  it.each([-20, -1, 0])(
    'refuses to issue when the subject token expired %i s from now (invalid_request)',
    async (offset) => {
      const { iss, nowS } = issuer();
      const refused = iss.issue({ ...claims, notAfter: nowS + offset });
      await expect(refused).rejects.toBeInstanceOf(OAuthError);
      await expect(refused).rejects.toMatchObject({
        code: 'invalid_request',
        description: 'subject_token has expired',
      });
    },
  );
});
