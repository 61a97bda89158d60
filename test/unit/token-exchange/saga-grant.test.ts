import { describe, expect, it } from 'vitest';
import { SAGA_ID_TOKEN_TYPE } from '../../../src/sagas/saga-id.js';
import type { Caller } from '../../../src/token-exchange/grants.js';
import { OAuthError } from '../../../src/token-exchange/oauth-error.js';
import { sagaDelegationGrant } from '../../../src/token-exchange/saga-grant.js';
import type { SagaLookup } from '../../../src/token-exchange/saga-lookup.js';
import type { SubjectTokens } from '../../../src/token-exchange/subject-tokens.js';
import type { TokenRequest } from '../../../src/token-exchange/token-request.js';

const GATEWAY: Caller = {
  service: 'gateway',
  policy: { audiences: ['vmcontroller'], delegate: true },
};
const EXPIRES = Date.UTC(2026, 0, 1, 12, 0, 0, 900);

function request(overrides: Partial<TokenRequest> = {}): TokenRequest {
  return {
    grantType: 'urn:ietf:params:oauth:grant-type:token-exchange',
    audiences: ['vmcontroller'],
    resources: [],
    subjectToken: 'saga-1',
    subjectTokenType: SAGA_ID_TOKEN_TYPE,
    ...overrides,
  };
}

/** A SagaLookup fake that records who asked and answers one fixed delegation. */
function lookup(asked: string[] = []) {
  return {
    resolve: async (sagaId: string, service: string) => {
      asked.push(`${sagaId}/${service}`);
      return { initiator: 'cloud-teleport-aleksander.rykalin', expiresAtMs: EXPIRES };
    },
  } as unknown as SagaLookup;
}

const subjects = {
  verifyActor: async () => ({ sub: 'gateway', client_id: 'gateway' }),
} as unknown as SubjectTokens;

async function refusal(promise: Promise<unknown>): Promise<OAuthError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OAuthError);
  return err as OAuthError;
}

describe('sagaDelegationGrant', () => {
  it('acts for the initiator with the caller as the current actor, capped by the saga expiry', async () => {
    const asked: string[] = [];
    const result = await sagaDelegationGrant(request(), GATEWAY, {
      sagas: lookup(asked),
      subjects,
    });
    expect(asked).toEqual(['saga-1/gateway']);
    expect(result.issuedTokenType).toBe('urn:ietf:params:oauth:token-type:access_token');
    expect(result.claims).toEqual({
      subject: 'cloud-teleport-aleksander.rykalin',
      clientId: 'gateway',
      audience: 'vmcontroller',
      act: { sub: 'gateway' },
      saga: 'saga-1',
      notAfter: Math.floor(EXPIRES / 1000),
    });
  });

  it.each([
    ['delegation is not configured', {}, GATEWAY, 'invalid_request', /not enabled/],
    [
      'the caller may not delegate',
      {},
      { ...GATEWAY, policy: { audiences: ['vmcontroller'], delegate: false } },
      'unauthorized_client',
      /delegate: true/,
    ],
    [
      'the audience is not the caller’s',
      { audiences: ['billing'] },
      GATEWAY,
      'invalid_target',
      /billing/,
    ],
    ['the saga id is unsafe', { subjectToken: 'saga:1' }, GATEWAY, 'invalid_request', /saga id/],
    ['the saga id is missing', { subjectToken: undefined }, GATEWAY, 'invalid_request', /missing/],
    [
      'requested_token_type is unknown',
      { requestedTokenType: 'urn:ietf:params:oauth:token-type:saml2' },
      GATEWAY,
      'invalid_request',
      /requested_token_type/,
    ],
    [
      'actor_token_type comes without actor_token',
      { actorTokenType: 'urn:ietf:params:oauth:token-type:access_token' },
      GATEWAY,
      'invalid_request',
      /actor_token_type/,
    ],
  ] as const)(
    'refuses when %s, without asking SpiceDB',
    async (name, overrides, caller, code, why) => {
      const asked: string[] = [];
      const sagas = name === 'delegation is not configured' ? undefined : lookup(asked);
      const err = await refusal(
        sagaDelegationGrant(request(overrides), caller as unknown as Caller, { sagas, subjects }),
      );
      expect(err.code).toBe(code);
      expect(err.description).toMatch(why);
      expect(asked).toEqual([]);
    },
  );

  it('passes SpiceDB’s refusal through', async () => {
    const sagas = {
      resolve: async () => {
        throw new OAuthError('invalid_request', 'service "gateway" does not execute saga:saga-1');
      },
    } as unknown as SagaLookup;
    const err = await refusal(sagaDelegationGrant(request(), GATEWAY, { sagas, subjects }));
    expect(err.code).toBe('invalid_request');
  });
});
