import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../helpers/manual-time.js';
import {
  exchangePhase,
  type SubjectTokenExchanger,
} from '../../../../src/check/inbound/exchange.js';
import { ExchangedTokenCache } from '../../../../src/check/inbound/exchanged-cache.js';
import type { CheckState } from '../../../../src/check/pipeline.js';
import { toRequestContext } from '../../../../src/check/request-context.js';
import { syntheticCheckRequest } from '../../../../src/envoy/client.js';
import { JwtxError } from '../../../../src/errors.js';
import { buildIdentity } from '../../../../src/jwt/identity.js';
import type { TokenVerifier } from '../../../../src/jwt/verifier.js';

const AUTH = 'https://auth.service';
const STS = 'https://token-exchange';

function setup(exchanger: SubjectTokenExchanger, clock = new ManualClock()) {
  const nowS = Math.floor(clock.now() / 1000);
  const verifier = {
    verify: async (token: string) =>
      buildIdentity(STS, {
        sub: 'alice',
        client_id: 'gateway',
        aud: 'gateway',
        exp: nowS + 300,
        jti: token,
      }),
  } as unknown as TokenVerifier;
  const phase = exchangePhase({
    exchangeFor: new Map([[AUTH, 'gateway']]),
    exchanger,
    verifier,
    cache: new ExchangedTokenCache(100, clock, 10_000),
  });
  const evaluation = (issuer = AUTH): CheckState => ({
    request: toRequestContext(
      syntheticCheckRequest({ headers: { authorization: 'Bearer user-token' } }),
    ),
    identity: buildIdentity(issuer, { sub: 'alice', aud: 'auth', exp: nowS + 3600 }),
    credential: 'user-token',
    wouldDeny: undefined,
    setHeaders: [],
  });
  return { phase, evaluation, clock };
}

describe('exchange phase', () => {
  it('replaces the caller identity and authorization with the internal token', async () => {
    const calls: string[] = [];
    const { phase, evaluation } = setup({
      exchange: async (t, aud) => (calls.push(`${t}->${aud}`), 'internal-1'),
    });
    const ev = evaluation();
    expect(await phase.run(ev)).toBeUndefined();
    expect(ev.identity?.issuer).toBe(STS);
    expect(ev.setHeaders).toContainEqual(['authorization', 'Bearer internal-1']);
    expect(calls).toEqual(['user-token->gateway']);
  });

  it('leaves tokens of other issuers alone', async () => {
    const { phase, evaluation } = setup({ exchange: async () => 'never' });
    const ev = evaluation(STS);
    expect(await phase.run(ev)).toBeUndefined();
    expect(ev.setHeaders).toEqual([]);
  });

  it('shares one exchange among concurrent requests and caches it until the margin before exp', async () => {
    let n = 0;
    const { phase, evaluation, clock } = setup({ exchange: async () => `internal-${++n}` });
    await Promise.all([phase.run(evaluation()), phase.run(evaluation()), phase.run(evaluation())]);
    expect(n).toBe(1);
    clock.advance(289_000); // internal token lives 300 s, margin 10 s
    await phase.run(evaluation());
    expect(n).toBe(1);
    clock.advance(2_000);
    await phase.run(evaluation());
    expect(n).toBe(2);
  });

  it('denies with the exchanger reason and does not cache failures', async () => {
    let fail = true;
    const { phase, evaluation } = setup({
      exchange: async () => {
        if (fail) throw new JwtxError('token_exchange_unavailable', 'token-exchange is down');
        return 'internal-ok';
      },
    });
    expect(await phase.run(evaluation())).toMatchObject({
      allow: false,
      reason: 'token_exchange_unavailable',
    });
    fail = false;
    expect(await phase.run(evaluation())).toBeUndefined();
  });
});
