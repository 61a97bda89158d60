import { describe, expect, it } from 'vitest';
import { Explanation } from '../../../src/check/explain.js';
import { ExchangedTokenCache } from '../../../src/check/inbound/exchanged-cache.js';
import { toRequestContext } from '../../../src/check/request-context.js';
import { parseConfig } from '../../../src/config/load.js';
import { compileRules } from '../../../src/config/rules.js';
import { syntheticCheckRequest } from '../../../src/envoy/client.js';
import { buildIdentity } from '../../../src/jwt/identity.js';
import { VerifiedTokenCache } from '../../../src/jwt/verified-cache.js';
import type { TokenVerifier } from '../../../src/jwt/verifier.js';
import { silentLogger } from '../../../src/log.js';
import { checkDirections, type CheckParts } from '../../../src/server/check-phases.js';
import type { Inbound } from '../../../src/server/inbound-setup.js';
import type { OutboundTokens } from '../../../src/server/outbound-setup.js';
import type { DelegatedTokenCache } from '../../../src/tokens/delegated-token-cache.js';
import { ManualClock } from '../../helpers/manual-time.js';

const AUTH = 'https://auth.service';
const clock = new ManualClock();
const exp = Math.floor(clock.now() / 1000) + 300;

/** A verified-token cache that already holds the caller's token (the warm path). */
function inbound(withExchange: boolean): Inbound {
  const verifiedCache = new VerifiedTokenCache(10, clock);
  verifiedCache.set('user-token', buildIdentity(AUTH, { sub: 'alice', exp }));
  const verifier = {
    verify: async () => buildIdentity('https://sts', { sub: 'alice', exp }),
  } as unknown as TokenVerifier;
  return {
    sources: [],
    verifier,
    verifiedCache,
    observeVerifiedCache: () => undefined,
    exchange: withExchange
      ? {
          exchangeFor: new Map([[AUTH, 'gateway']]),
          exchanger: { exchange: async () => 'internal' },
          verifier,
          cache: new ExchangedTokenCache(10, clock),
        }
      : undefined,
  } as Inbound;
}

function authorization(): CheckParts['authorization'] {
  const config = parseConfig({
    spicedb: { endpoint: '127.0.0.1:1', transport: 'plaintext', presharedKeyEnv: 'K' },
    authorization: { default: 'allow', rules: [] },
  }).authorization!;
  return {
    config,
    rules: compileRules(config),
    checker: { check: async () => true },
    logger: silentLogger,
  };
}

const outbound: OutboundTokens = {
  allowlist: new Map([['vmcontroller', new Set<string>()]]),
  serviceTokens: { get: () => 'svc' },
  delegated: { get: () => 'delegated' } as unknown as DelegatedTokenCache,
  sagaIdHeader: 'x-saga-id',
};

// [configuration, exchange, authorization, the inbound phases in the order they ran]
const INBOUND: [string, boolean, boolean, string[]][] = [
  ['verify only', false, false, ['exempt', 'authenticate', 'identity_headers']],
  ['with exchange', true, false, ['exempt', 'authenticate', 'exchange', 'identity_headers']],
  ['with authorization', false, true, ['exempt', 'authenticate', 'authorize', 'identity_headers']],
  [
    'with both',
    true,
    true,
    ['exempt', 'authenticate', 'exchange', 'authorize', 'identity_headers'],
  ],
];

describe('checkDirections: every phase, in order', () => {
  it.each(INBOUND)('inbound, %s', async (_, exchange, authz, order) => {
    const { inbound: check } = checkDirections({
      inboundMode: 'enforce',
      inbound: inbound(exchange),
      authorization: authz ? authorization() : undefined,
      outbound: undefined,
      observe: () => undefined,
    });
    const explain = new Explanation();
    const request = syntheticCheckRequest({ headers: { authorization: 'Bearer user-token' } });
    const d = await check(toRequestContext(request), explain);
    expect(d).toMatchObject({ allow: true, reason: 'allowed' });
    expect(explain.steps.map((s) => s.phase)).toEqual(order);
  });

  it.each([
    [
      'a delegation route',
      { 'jwtexchange.delegation': 'saga' },
      { 'x-saga-id': 's1' },
      'delegated',
    ],
    ['a service-token route', {}, {}, 'injected'],
  ])('outbound, %s: delegation first, then the service token', async (_, tags, headers, reason) => {
    const { outbound: check } = checkDirections({
      inboundMode: 'enforce',
      inbound: inbound(false),
      authorization: undefined,
      outbound,
      observe: () => undefined,
    });
    const extensions = {
      'jwtexchange.direction': 'outbound',
      'jwtexchange.audience': 'vmcontroller',
      ...tags,
    };
    const d = await check(toRequestContext(syntheticCheckRequest({ extensions, headers })));
    expect(d.reason).toBe(reason);
  });

  it('refuses a route that wants a token when there is no outbound section', async () => {
    const { outbound: check } = checkDirections({
      inboundMode: 'enforce',
      inbound: inbound(false),
      authorization: undefined,
      outbound: undefined,
      observe: () => undefined,
    });
    const extensions = { 'jwtexchange.direction': 'outbound', 'jwtexchange.audience': 'x' };
    const d = await check(toRequestContext(syntheticCheckRequest({ extensions })));
    expect(d.reason).toBe('audience_not_allowed');
  });
});
