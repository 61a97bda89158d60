import { describe, expect, it } from 'vitest';
import { authenticatePhase } from '../../../../src/check/inbound/authenticate.js';
import { exemptPhase } from '../../../../src/check/inbound/exempt.js';
import { identityHeadersPhase } from '../../../../src/check/inbound/identity-headers.js';
import { inboundCheck, type InboundMode } from '../../../../src/check/inbound/inbound-check.js';
import { createPipeline } from '../../../../src/check/pipeline.js';
import { CONTEXT_EXTENSIONS, toRequestContext } from '../../../../src/check/request-context.js';
import { toCheckResponse } from '../../../../src/check/response.js';
import { ManualClock } from '../../../helpers/manual-time.js';
import { syntheticCheckRequest } from '../../../../src/envoy/client.js';
import { VerifiedTokenCache } from '../../../../src/jwt/verified-cache.js';
import { fakeVerifier } from './fake-verifier.js';

const SPOOFED = { 'x-jwtauth-subject': 'admin', 'x-jwtauth-role': 'superuser' };

function check(mode: InboundMode) {
  const pipeline = createPipeline(
    [
      exemptPhase,
      authenticatePhase(fakeVerifier(), new VerifiedTokenCache(100, new ManualClock())),
      identityHeadersPhase,
    ],
    'allowed',
  );
  const run = inboundCheck(pipeline, mode);
  return (headers: Record<string, string>, extensions: Record<string, string> = {}) =>
    run(toRequestContext(syntheticCheckRequest({ headers, extensions })));
}

const names = (headers: readonly (readonly [string, string])[]) => headers.map(([k]) => k);

describe('inboundCheck', () => {
  it('enforce: a valid token is allowed with the identity headers, spoofed ones removed', async () => {
    const d = await check('enforce')({ authorization: 'Bearer good-alice', ...SPOOFED });
    expect(d).toMatchObject({ allow: true, reason: 'allowed' });
    expect(d.setHeaders).toContainEqual(['x-jwtauth-subject', 'alice']);
    expect(d.removeHeaders).toEqual(['x-jwtauth-role']);
  });

  it('a delegated token exposes the actor and the saga next to the subject', async () => {
    const d = await check('enforce')({ authorization: 'Bearer saga-alice' });
    expect(d.setHeaders).toContainEqual(['x-jwtauth-subject', 'alice']);
    expect(d.setHeaders).toContainEqual(['x-jwtauth-actor', 'gateway']);
    expect(d.setHeaders).toContainEqual(['x-jwtauth-saga', 's-1']);
    expect(d.setHeaders).toContainEqual(['x-jwtauth-kind', 'user']);
  });

  it('removes a client-supplied actor or saga when the token names none', async () => {
    const spoofed = { 'x-jwtauth-actor': 'gateway', 'x-jwtauth-saga': 's-1' };
    const d = await check('enforce')({ authorization: 'Bearer good-alice', ...spoofed });
    expect(names(d.setHeaders)).not.toContain('x-jwtauth-actor');
    expect([...d.removeHeaders].sort()).toEqual(['x-jwtauth-actor', 'x-jwtauth-saga']);
    const denied = await check('dry-run')({ authorization: 'Bearer forged', ...spoofed });
    expect([...denied.removeHeaders].sort()).toEqual(['x-jwtauth-actor', 'x-jwtauth-saga']);
  });

  it('enforce: a bad token is denied with its reason', async () => {
    const d = await check('enforce')({ authorization: 'Bearer forged', ...SPOOFED });
    expect(d).toMatchObject({ allow: false, reason: 'invalid_signature' });
    expect(d.wouldDeny).toBeUndefined();
  });

  it.each([
    ['a bad token', { authorization: 'Bearer forged' }, 'invalid_signature'],
    ['no token', {}, 'missing_token'],
  ])('dry-run: %s is allowed as dry_run, without identity', async (_name, headers, would) => {
    const d = await check('dry-run')({ ...headers, ...SPOOFED });
    expect(d).toMatchObject({ allow: true, reason: 'dry_run', wouldDeny: would });
    expect(d.setHeaders).toEqual([]);
    expect([...d.removeHeaders].sort()).toEqual(['x-jwtauth-role', 'x-jwtauth-subject']);

    const res = toCheckResponse(d, undefined);
    expect(res.status.code).toBe(0);
    expect(res.ok_response?.headers).toEqual([]);
    expect(res.ok_response?.headers_to_remove.sort()).toEqual([
      'x-jwtauth-role',
      'x-jwtauth-subject',
    ]);
  });

  it('dry-run: a valid token is allowed normally, with identity', async () => {
    const d = await check('dry-run')({ authorization: 'Bearer good-bob', ...SPOOFED });
    expect(d).toMatchObject({ allow: true, reason: 'allowed' });
    expect(d.wouldDeny).toBeUndefined();
    expect(d.setHeaders).toContainEqual(['x-jwtauth-subject', 'bob']);
  });

  it.each<InboundMode>(['enforce', 'dry-run'])(
    '%s: an exempt route skips authentication but still loses spoofed headers',
    async (mode) => {
      const d = await check(mode)(
        { authorization: 'Bearer forged', ...SPOOFED },
        { [CONTEXT_EXTENSIONS.exempt]: 'true' },
      );
      expect(d).toMatchObject({ allow: true, reason: 'exempt' });
      expect(names(d.setHeaders)).toEqual([]);
      expect([...d.removeHeaders].sort()).toEqual(['x-jwtauth-role', 'x-jwtauth-subject']);
    },
  );

  it('only "true" exempts a route', async () => {
    const d = await check('enforce')({}, { [CONTEXT_EXTENSIONS.exempt]: 'yes' });
    expect(d).toMatchObject({ allow: false, reason: 'missing_token' });
  });
});
